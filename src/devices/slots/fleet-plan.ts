import type { Lane, ZonePlan } from "./fleet-shape";

/**
 * Exact placement for fleets of any size. The cumulative curves of fleet-shape.ts say what share
 * of a zone reports in each minute; drawing devices into them at random (a hash) adds Poisson
 * noise that dominates small fleets (1,000 machines: ~2 reports a minute, peaks of 8). Here the
 * same earliest-deadline-first fill runs in whole devices at the lowest whole level that fits, so
 * no UTC minute gets more than `level` reports; each zone's devices are then dealt into its
 * minutes in the order of a low-discrepancy sequence over their registration rank
 * (./placement.ts), and spread inside a minute after the other zones' devices of that minute.
 */

/** The whole-device plan of every zone at the lowest whole level from `start` at which all fit. */
export function planFleet(lanes: readonly Lane[], duration: number, start: number): Map<string, ZonePlan> {
	const total = lanes.reduce((s, l) => s + l.count, 0);
	for (let level = Math.max(1, start); level <= Math.max(1, total); level++) {
		const plans = fillWhole(lanes, duration, level);
		if (plans) return plans;
	}
	// Unreachable: at level = total every zone fits in its first minute.
	throw new Error("a fleet always fits at the level of its total");
}

/**
 * Seconds from the window's start for the zone's `index`-th device in time order (0 ≤ index <
 * plan.count): its minute from the plan, then its place among that minute's `level` seats.
 */
export function plannedOffsetSeconds(plan: ZonePlan, index: number): number {
	let before = 0;
	for (let minute = 0; minute < plan.placed.length; minute++) {
		const here = plan.placed[minute] ?? 0;
		if (index < before + here) {
			const seat = (plan.before[minute] ?? 0) + (index - before);
			return Math.floor((minute + (seat + 0.5) / plan.level) * 60);
		}
		before += here;
	}
	// An index past the plan (a device the cached fleet does not know yet): the window's last second.
	return plan.placed.length * 60 - 1;
}

function fillWhole(lanes: readonly Lane[], duration: number, level: number): Map<string, ZonePlan> | null {
	const zones = lanes.map((lane) => ({
		lane,
		left: lane.count,
		placed: Array.from({ length: duration }, () => 0),
		before: Array.from({ length: duration }, () => 0),
	}));
	const first = Math.min(...lanes.map((l) => l.start));
	const last = Math.max(...lanes.map((l) => l.start)) + duration;
	// Equal-length windows: the earliest start is the earliest deadline (a stable sort keeps ties in zone order).
	const order = [...zones].sort((a, b) => a.lane.start - b.lane.start);
	for (let minute = first; minute < last; minute++) {
		let used = 0;
		for (const zone of order) {
			const offset = minute - zone.lane.start;
			if (offset < 0 || offset >= duration || zone.left === 0) continue;
			const take = Math.min(level - used, zone.left);
			zone.placed[offset] = take;
			zone.before[offset] = used;
			zone.left -= take;
			used += take;
			if (used === level) break;
		}
		for (const zone of order) if (zone.lane.start + duration - 1 === minute && zone.left > 0) return null;
	}
	return new Map(
		zones.map((z) => [z.lane.timezone, { count: z.lane.count, level, placed: z.placed, before: z.before }]),
	);
}
