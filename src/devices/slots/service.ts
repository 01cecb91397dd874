import { countVendingByTimezone, findDevice } from "../db";
import type { FleetShape, ZoneCount } from "./fleet-shape";
import { shapeFleet } from "./fleet-shape";
import { findReportWindow, saveReportWindow } from "./db";
import type { ReportTiming, ReportWindow, ShapeOf } from "./domain";
import { reportTiming } from "./domain";

/**
 * Report windows and device time zones as the request path needs them: cached in the isolate
 * (plain data) so the nightly surge of reports does not add D1 reads per report.
 */

const CACHE_MS = 60_000;
const MAX_ENTRIES = 50_000;

/** How long an isolate keeps a tenant's fleet composition (devices per time zone). */
const FLEET_CACHE_MS = 10 * 60_000;
const MAX_SHAPES_PER_FLEET = 32;

const fleets = new Map<string, { zones: ZoneCount[]; shapes: Map<string, FleetShape>; expiresAt: number }>();
const windows = new Map<string, { window: ReportWindow; expiresAt: number }>();
const deviceZones = new Map<string, { timezone: string | null; expiresAt: number }>();

export async function reportWindowOf(db: D1Database, tenantId: string, now = Date.now()): Promise<ReportWindow> {
	const cached = windows.get(tenantId);
	if (cached && cached.expiresAt > now) return cached.window;
	const window = await findReportWindow(db, tenantId);
	if (windows.size >= MAX_ENTRIES) windows.clear();
	windows.set(tenantId, { window, expiresAt: now + CACHE_MS });
	return window;
}

export async function setReportWindow(db: D1Database, tenantId: string, window: ReportWindow): Promise<void> {
	await saveReportWindow(db, tenantId, window, Date.now());
	windows.delete(tenantId);
	forgetFleet(tenantId);
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
	return reportTiming(
		{ tenantId, deviceId, timezone },
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
	let fleet = fleets.get(tenantId);
	if (!fleet || fleet.expiresAt <= nowMs) {
		fleet = {
			zones: (await countVendingByTimezone(db, tenantId)).map((z) => ({ timezone: z.timezone, count: z.devices })),
			shapes: new Map(),
			expiresAt: nowMs + FLEET_CACHE_MS,
		};
		if (fleets.size >= MAX_ENTRIES) fleets.clear();
		fleets.set(tenantId, fleet);
	}
	const { zones, shapes } = fleet;
	return (night) => {
		const key = `${window.startMinute}/${window.durationMinutes}/${night}`;
		let shape = shapes.get(key);
		if (!shape) {
			if (shapes.size >= MAX_SHAPES_PER_FLEET) shapes.clear();
			shape = shapeFleet(zones, window, night);
			shapes.set(key, shape);
		}
		return shape.zones.get(timezone);
	};
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
	if (deviceZones.size >= MAX_ENTRIES) deviceZones.clear();
	deviceZones.set(`${tenantId}\u0000${deviceId}`, { timezone, expiresAt: now + CACHE_MS });
}

async function vendingTimezoneOf(
	db: D1Database,
	tenantId: string,
	deviceId: string,
	now: number,
): Promise<string | null> {
	const key = `${tenantId}\u0000${deviceId}`;
	const cached = deviceZones.get(key);
	if (cached && cached.expiresAt > now) return cached.timezone;
	const row = await findDevice(db, tenantId, deviceId);
	const timezone = row && row.kind === "vending" && row.revoked_at === null ? row.timezone : null;
	if (deviceZones.size >= MAX_ENTRIES) deviceZones.clear();
	deviceZones.set(key, { timezone, expiresAt: now + CACHE_MS });
	return timezone;
}
