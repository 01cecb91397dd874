import type { ReportWindow } from "./domain";
import { instantOfWallTime } from "../../platform/time-zones";
import { planFleet } from "./fleet-plan";

/**
 * Fleet-aware report shaping. Hashing devices uniformly over their own zone's window flattens
 * each zone, but a fleet is not spread evenly over the globe: Tokyo's and Seoul's windows are the
 * same two UTC hours, and that hour carries three times the average. So for one night the
 * tenant's devices per time zone are turned into a target arrival curve: the lowest constant
 * rate L at which every zone's reports still fit inside its own window, found by binary search,
 * each UTC minute filled up to L with the zones whose windows end first (earliest deadline
 * first, which is what makes "fits at L" decidable in one sweep). Each zone then gets its share
 * of each minute of its window as a cumulative curve, and a device's hash fraction is mapped
 * through that curve to its slot. Every slot stays inside its device's window; the platform sees
 * a flat arrival rate instead of a surge per time zone.
 *
 * Shapes are in elapsed minutes from each zone's window start, so daylight-saving nights keep
 * the same guarantees as the uniform slots (src/devices/slots/domain.ts).
 */

export type ZoneCount = { timezone: string; count: number };
/** Cumulative share of a zone's devices by the end of each elapsed minute of its window; last = 1. */
export type ZoneShape = number[];
/**
 * A zone's exact share of each elapsed minute of its window, in whole devices (see planFleet):
 * `placed[i]` devices of the zone report in minute i, after `before[i]` devices of other zones in
 * the same UTC minute; at most `level` devices report in any UTC minute.
 */
export type ZonePlan = { count: number; level: number; placed: number[]; before: number[] };
export type FleetShape = { level: number; zones: Map<string, ZoneShape>; plans: Map<string, ZonePlan> };

/** A zone with its window's start that night, in UTC minutes. */
export type Lane = ZoneCount & { start: number };

const MINUTE = 60_000;
const SEARCH_STEPS = 40;

export function shapeFleet(zones: readonly ZoneCount[], window: ReportWindow, night: string): FleetShape {
	// A canonical order, so ties between zones with the same window never depend on input order.
	const live = zones
		.filter((z) => z.count > 0)
		.sort((a, b) => (a.timezone < b.timezone ? -1 : a.timezone > b.timezone ? 1 : 0));
	const lanes: Lane[] = live.map((z) => ({
		...z,
		start: Math.round(instantOfWallTime(z.timezone, night, window.startMinute) / MINUTE),
	}));
	const total = live.reduce((s, z) => s + z.count, 0);
	if (live.length === 0) return { level: 0, zones: new Map(), plans: new Map() };

	// Between the mean over the union of windows (lower bound) and everything in one minute.
	let low =
		total /
		unionMinutes(
			lanes.map((l) => l.start),
			window.durationMinutes,
		);
	let high = total;
	let best = fill(lanes, window.durationMinutes, high);
	for (let i = 0; i < SEARCH_STEPS && high - low > 1e-6 * high; i++) {
		const mid = (low + high) / 2;
		const attempt = fill(lanes, window.durationMinutes, mid);
		if (attempt) {
			best = attempt;
			high = mid;
		} else {
			low = mid;
		}
	}
	if (!best) throw new Error("a fleet always fits at the level of its total");
	const shapes = new Map<string, ZoneShape>();
	for (const { lane, placed } of best) {
		let sum = 0;
		shapes.set(
			lane.timezone,
			placed.map((a) => (sum += a) / lane.count),
		);
	}
	return { level: high, zones: shapes, plans: planFleet(lanes, window.durationMinutes, Math.ceil(high - 1e-9)) };
}

/** Maps a uniform fraction through a zone's curve: seconds from its window start. */
export function shapedOffsetSeconds(shape: ZoneShape, fraction: number): number {
	// The first minute whose cumulative share passes the fraction (or the last minute).
	const last = shape.length - 1;
	const minute = Math.max(
		0,
		shape.findIndex((share, i) => share > fraction || i >= last),
	);
	const before = shape[minute - 1] ?? 0;
	const mass = (shape[minute] ?? before) - before;
	const within = mass > 0 ? Math.min(0.999, Math.max(0, (fraction - before) / mass)) : 0;
	return Math.floor((minute + within) * 60);
}

/**
 * Earliest-deadline-first fill at `level` per UTC minute: per zone, the devices placed in each
 * minute of its window, or null when some zone cannot fit before its window ends.
 */
function fill(lanes: readonly Lane[], duration: number, level: number): { lane: Lane; placed: number[] }[] | null {
	const fills = lanes.map((lane) => ({ lane, left: lane.count, placed: Array.from({ length: duration }, () => 0) }));
	const first = Math.min(...lanes.map((l) => l.start));
	const last = Math.max(...lanes.map((l) => l.start)) + duration;
	// Equal-length windows: the earliest start is the earliest deadline (a stable sort keeps ties in zone order).
	const order = [...fills].sort((a, b) => a.lane.start - b.lane.start);
	for (let minute = first; minute < last; minute++) {
		let room = level;
		for (const zone of order) {
			const offset = minute - zone.lane.start;
			if (offset < 0 || offset >= duration || zone.left <= 0) continue;
			const take = Math.min(room, zone.left);
			zone.placed[offset] = take;
			zone.left -= take;
			room -= take;
			if (room <= 0) break;
		}
		for (const zone of order) {
			if (zone.lane.start + duration - 1 === minute && zone.left > 1e-9) return null;
		}
	}
	return fills;
}

function unionMinutes(starts: number[], duration: number): number {
	const sorted = [...starts].sort((a, b) => a - b);
	let covered = 0;
	let end = -Infinity;
	for (const start of sorted) {
		covered += Math.max(0, start + duration - Math.max(start, end));
		end = Math.max(end, start + duration);
	}
	return covered;
}
