import type { ZonePlan, ZoneShape } from "./fleet-shape";
import { shapedOffsetSeconds } from "./fleet-shape";
import { plannedOffsetSeconds } from "./fleet-plan";
import { goldenSeat } from "./placement";
import { addDays, instantOfWallTime, localDateAt } from "../../platform/time-zones";

/**
 * Report slots: every vending machine reports once a night at its own moment inside its tenant's
 * window (default 00:00-02:00 local time). With the fleet known (the service always knows it), the
 * moment comes from the machine's registration rank in its zone through the fleet's whole-device
 * plan (fleet-plan.ts, placement.ts): no UTC minute gets more than the plan's level, at any fleet
 * size. Without a rank or a plan it is a hash of tenant and device id (uniform in expectation).
 * Either way it is the same every night for the same fleet and needs no storage.
 *
 * The offset is measured in elapsed time from the window's local start, not on the wall clock: on
 * a daylight-saving night every device still gets exactly one slot (none falls into a skipped
 * hour, none repeats in a doubled hour), and the window keeps its real length, so its load per
 * second is the same on every night — its wall-clock end moves by the DST shift instead.
 */

export type ReportWindow = { startMinute: number; durationMinutes: number };
/** `rank`: the machine's place among its tenant's active machines of its zone by registration (0-based). */
export type SlotDevice = { tenantId: string; deviceId: string; timezone: string; rank?: number };
export type Slot = { night: string; windowStart: number; at: number };
export type ReportTiming = { next_report_at: string; in_slot: boolean; slot_at: string; night: string };
/**
 * The fleet-aware curve of the device's zone for a night (src/devices/slots/fleet-shape.ts), or
 * undefined for uniform slots over the window.
 */
export type ShapeOf = (night: string) => ZoneShape | ZonePlan | undefined;

const UNIFORM: ShapeOf = () => undefined;

export const DEFAULT_REPORT_WINDOW: ReportWindow = { startMinute: 0, durationMinutes: 120 };
/** A report this long before its slot (device clock drift) counts as in its slot. */
export const SLOT_EARLY_MS = 60_000;
/** A report this long after its slot (the client backing off and retrying) counts as in its slot. */
export const SLOT_LATE_MS = 15 * 60_000;

const TWO_POW_53 = 2 ** 53;

/** The device's position in any window, in [0, 1): deterministic and uniform over device ids. */
export function slotFraction(tenantId: string, deviceId: string): number {
	return cyrb53(`${tenantId}\u0000${deviceId}`) / TWO_POW_53;
}

/**
 * Seconds from the window's start to the device's slot: its seat in its zone's whole-device plan
 * (by rank, or by hash without one), through its zone's curve, or uniform.
 */
export function slotOffsetSeconds(
	device: Pick<SlotDevice, "tenantId" | "deviceId" | "rank">,
	window: ReportWindow,
	shape?: ZoneShape | ZonePlan,
): number {
	const fraction = slotFraction(device.tenantId, device.deviceId);
	if (shape !== undefined && !Array.isArray(shape) && shape.placed.length === window.durationMinutes) {
		const seat =
			device.rank === undefined
				? Math.min(shape.count - 1, Math.floor(fraction * shape.count))
				: goldenSeat(device.rank, shape.count);
		return plannedOffsetSeconds(shape, seat);
	}
	if (Array.isArray(shape) && shape.length === window.durationMinutes) return shapedOffsetSeconds(shape, fraction);
	return Math.floor(fraction * window.durationMinutes * 60);
}

/** The device's slot in the night that starts on local date `night`. */
export function slotFor(device: SlotDevice, window: ReportWindow, night: string, shapeOf: ShapeOf = UNIFORM): Slot {
	const windowStart = instantOfWallTime(device.timezone, night, window.startMinute);
	return { night, windowStart, at: windowStart + slotOffsetSeconds(device, window, shapeOf(night)) * 1000 };
}

/** The device's first slot strictly after `nowMs`. */
export function nextSlot(device: SlotDevice, window: ReportWindow, nowMs: number, shapeOf: ShapeOf = UNIFORM): Slot {
	for (const slot of nearbySlots(device, window, nowMs, shapeOf)) if (slot.at > nowMs) return slot;
	// Unreachable: the slot of the night after today's local date always lies ahead.
	throw new Error("no slot ahead");
}

/** `nextReportAt(device, now)` as a UTC ISO-8601 string: what GET /devices/{id}/schedule returns. */
export function nextReportAt(
	device: SlotDevice,
	window: ReportWindow,
	nowMs: number,
	shapeOf: ShapeOf = UNIFORM,
): string {
	return new Date(nextSlot(device, window, nowMs, shapeOf).at).toISOString();
}

/**
 * What a report response tells the machine (the ingest report route calls this): whether the
 * report came in its slot (within SLOT_EARLY_MS before to SLOT_LATE_MS after), the slot of the
 * current night, and when to report next: the slot of the first night whose window has not
 * started yet — a report counts for the night under way, early, late or on time.
 */
export function reportTiming(
	device: SlotDevice,
	window: ReportWindow,
	nowMs: number,
	shapeOf: ShapeOf = UNIFORM,
): ReportTiming {
	const slots = nearbySlots(device, window, nowMs, shapeOf);
	const current = slots.filter((s) => s.windowStart <= nowMs).at(-1) ?? slots[0];
	const next = slots.find((s) => s.windowStart > nowMs);
	if (!current || !next) throw new Error("no slots around now");
	return {
		next_report_at: new Date(next.at).toISOString(),
		in_slot: nowMs >= current.at - SLOT_EARLY_MS && nowMs <= current.at + SLOT_LATE_MS,
		slot_at: new Date(current.at).toISOString(),
		night: current.night,
	};
}

/** The instant a night's window ends (its start plus its real duration). */
export function windowEndOf(timezone: string, window: ReportWindow, night: string): number {
	return instantOfWallTime(timezone, night, window.startMinute) + window.durationMinutes * 60_000;
}

/** The slots of the nights around `nowMs` in time order: a window may run past midnight. */
function nearbySlots(device: SlotDevice, window: ReportWindow, nowMs: number, shapeOf: ShapeOf): Slot[] {
	const today = localDateAt(device.timezone, nowMs);
	return [-1, 0, 1].map((d) => slotFor(device, window, addDays(today, d), shapeOf));
}

/** cyrb53 (public domain, bryc): a fast 53-bit string hash with good avalanche; sync, unlike SubtleCrypto. */
function cyrb53(text: string): number {
	let h1 = 0xdeadbeef;
	let h2 = 0x41c6ce57;
	for (let i = 0; i < text.length; i++) {
		const ch = text.charCodeAt(i);
		h1 = Math.imul(h1 ^ ch, 2654435761);
		h2 = Math.imul(h2 ^ ch, 1597334677);
	}
	h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
	h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
	return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
