import { countVendingByTimezone, findDevice } from "../db";
import { windowJson } from "../json";
import { checkCapacity } from "./capacity";
import type { FleetShape, ZoneCount } from "./fleet-shape";
import { shapeFleet } from "./fleet-shape";
import { findReportWindow, listReportWindows, listZoneMachines, saveReportWindow } from "./db";
import type { ReportTiming, ReportWindow, ShapeOf } from "./domain";
import { nextSlot, reportTiming } from "./domain";
import { AppError } from "../../platform/errors";
import { TtlCache } from "../../platform/ttl-cache";

/**
 * Report windows and device time zones as the request path needs them: cached in the isolate
 * (plain data) so the nightly surge of reports does not add D1 reads per report.
 */

const CACHE_MS = 60_000;
const MAX_ENTRIES = 50_000;

/** How long an isolate keeps a tenant's fleet composition (devices per time zone). */
const FLEET_CACHE_MS = 10 * 60_000;
const MAX_SHAPES_PER_FLEET = 32;

type Fleet = {
	zones: ZoneCount[];
	shapes: TtlCache<string, FleetShape>;
	/** Per zone, each machine's registration rank (loaded on the zone's first slot question). */
	ranks: Map<string, Map<string, number>>;
};

const fleets = new TtlCache<string, Fleet>({ ttlMs: FLEET_CACHE_MS, maxEntries: MAX_ENTRIES });
const windows = new TtlCache<string, ReportWindow>({ ttlMs: CACHE_MS, maxEntries: MAX_ENTRIES });
/** A device's time zone when it is an active vending machine, else null. */
const deviceZones = new TtlCache<string, string | null>({ ttlMs: CACHE_MS, maxEntries: MAX_ENTRIES });

export async function reportWindowOf(db: D1Database, tenantId: string, now = Date.now()): Promise<ReportWindow> {
	const cached = windows.get(tenantId, now);
	if (cached) return cached;
	const window = await findReportWindow(db, tenantId);
	windows.set(tenantId, window, CACHE_MS, now);
	return window;
}

/** Every tenant's window that differs from the default (the cron's missed-report check). */
export function customReportWindows(db: D1Database): Promise<Map<string, ReportWindow>> {
	return listReportWindows(db);
}

export async function setReportWindow(db: D1Database, tenantId: string, window: ReportWindow): Promise<void> {
	await saveReportWindow(db, tenantId, window, Date.now());
	windows.delete(tenantId);
	forgetFleet(tenantId);
}

/** Whether the tenant's report window is long enough for its fleet (see ./capacity.ts), with the window. */
export async function capacityOf(db: D1Database, tenantId: string, reportsPerSecond: number, now = Date.now()) {
	const [zones, window] = await Promise.all([countVendingByTimezone(db, tenantId), reportWindowOf(db, tenantId, now)]);
	return { window: windowJson(window), ...checkCapacity(zones, window, reportsPerSecond, now) };
}

/**
 * An active vending machine's report slot: 404 for no such active device, 409 for a device
 * without slots (a truck).
 */
export async function scheduleOf(db: D1Database, tenantId: string, deviceId: string, now = Date.now()) {
	const row = await findDevice(db, tenantId, deviceId);
	if (!row || row.revoked_at !== null) throw new AppError(404, "not_found", `No active device ${deviceId}.`);
	if (row.kind !== "vending")
		throw new AppError(
			409,
			"no_report_slot",
			`Device ${deviceId} is a ${row.kind}; only vending machines have report slots.`,
		);
	const window = await reportWindowOf(db, tenantId, now);
	const shapeOf = await shapeOfZone(db, tenantId, window, row.timezone, now);
	const rank = await rankOf(db, tenantId, row.timezone, deviceId, now);
	const next = nextSlot({ tenantId, deviceId, timezone: row.timezone, rank }, window, now, shapeOf);
	return {
		device_id: deviceId,
		timezone: row.timezone,
		window: windowJson(window),
		slot_offset_seconds: Math.round((next.at - next.windowStart) / 1000),
		next_report_at: new Date(next.at).toISOString(),
	};
}

/**
 * For the machine-report route: `next_report_at` and `in_slot` for a report received at `nowMs`
 * from a registered vending machine, or null when the tenant has no such active machine (then
 * the route answers without them).
 */
export async function reportTimingFor(
	db: D1Database,
	tenantId: string,
	deviceId: string,
	nowMs = Date.now(),
): Promise<ReportTiming | null> {
	const timezone = await vendingTimezoneOf(db, tenantId, deviceId, nowMs);
	if (timezone === null) return null;
	const window = await reportWindowOf(db, tenantId, nowMs);
	const rank = await rankOf(db, tenantId, timezone, deviceId, nowMs);
	return reportTiming(
		{ tenantId, deviceId, timezone, rank },
		window,
		nowMs,
		await shapeOfZone(db, tenantId, window, timezone, nowMs),
	);
}

/**
 * The fleet-aware slot curve of one zone, night by night (src/devices/slots/fleet-shape.ts): the
 * tenant's devices per time zone are read once per FLEET_CACHE_MS, each night's shape computed
 * once. A fleet that changes moves slots a little; every answer carries the current next_report_at.
 */
export async function shapeOfZone(
	db: D1Database,
	tenantId: string,
	window: ReportWindow,
	timezone: string,
	nowMs = Date.now(),
): Promise<ShapeOf> {
	const { zones, shapes } = await fleetOf(db, tenantId, nowMs);
	return (night) => {
		const key = `${window.startMinute}/${window.durationMinutes}/${night}`;
		let shape = shapes.get(key);
		if (!shape) {
			shape = shapeFleet(zones, window, night);
			shapes.set(key, shape);
		}
		return shape.plans.get(timezone);
	};
}

/**
 * The machine's registration rank in its zone from the same cached fleet as the shapes (one D1
 * read per zone per FLEET_CACHE_MS); undefined for a machine the cached fleet does not know yet
 * (registered since: it is placed by hash until the fleet is read again).
 */
export async function rankOf(
	db: D1Database,
	tenantId: string,
	timezone: string,
	deviceId: string,
	nowMs = Date.now(),
): Promise<number | undefined> {
	const fleet = await fleetOf(db, tenantId, nowMs);
	let ranks = fleet.ranks.get(timezone);
	if (!ranks) {
		// Plain data once read (never a promise shared between requests).
		ranks = new Map((await listZoneMachines(db, tenantId, timezone)).map((id, rank) => [id, rank]));
		fleet.ranks.set(timezone, ranks);
	}
	return ranks.get(deviceId);
}

async function fleetOf(db: D1Database, tenantId: string, nowMs: number): Promise<Fleet> {
	let fleet = fleets.get(tenantId, nowMs);
	if (!fleet) {
		fleet = {
			zones: (await countVendingByTimezone(db, tenantId)).map((z) => ({ timezone: z.timezone, count: z.devices })),
			// Lives no longer than its fleet, which is dropped whole when it expires.
			shapes: new TtlCache({ ttlMs: FLEET_CACHE_MS, maxEntries: MAX_SHAPES_PER_FLEET }),
			ranks: new Map(),
		};
		fleets.set(tenantId, fleet, FLEET_CACHE_MS, nowMs);
	}
	return fleet;
}

/** Forgets a tenant's cached fleet (after devices are registered, revoked or a window changes). */
export function forgetFleet(tenantId: string): void {
	fleets.delete(tenantId);
}

/**
 * Seeds the time-zone cache from a lookup already made (device authentication reads the same
 * row), so a device's first report needs one D1 read, not two.
 */
export function rememberDeviceTimezone(
	tenantId: string,
	deviceId: string,
	timezone: string | null,
	now = Date.now(),
): void {
	deviceZones.set(`${tenantId}\u0000${deviceId}`, timezone, CACHE_MS, now);
}

async function vendingTimezoneOf(
	db: D1Database,
	tenantId: string,
	deviceId: string,
	now: number,
): Promise<string | null> {
	const key = `${tenantId}\u0000${deviceId}`;
	const cached = deviceZones.get(key, now);
	if (cached !== undefined) return cached;
	const row = await findDevice(db, tenantId, deviceId);
	const timezone = row && row.kind === "vending" && row.revoked_at === null ? row.timezone : null;
	deviceZones.set(key, timezone, CACHE_MS, now);
	return timezone;
}
