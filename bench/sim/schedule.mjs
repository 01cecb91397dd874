// The night's arrivals from the slot function alone (no requests): every machine of a fleet placed
// by the platform's own code (src/devices/slots, bundled), by its registration rank in its zone —
// what a clean run measures, since a clean report arrives at its scheduled minute.
import { buildFleet } from "./fleet.mjs";
import { addArrival, histogramRows, peakToMean, zonePeakToMean } from "./histogram.mjs";

/** Each machine's rank in its zone: its place in registration (fleet) order, as the platform ranks it. */
export function zoneRanks(machines) {
	const next = new Map();
	const ranks = new Map();
	for (const m of machines) {
		const rank = next.get(m.timezone) ?? 0;
		ranks.set(m.device_id, rank);
		next.set(m.timezone, rank + 1);
	}
	return ranks;
}

/** The fleet's per-zone plans for `night` (src/devices/slots/fleet-shape.ts shapeFleet). */
export function shapeOf(fleetShape, machines, window, night) {
	const counts = new Map();
	for (const m of machines) counts.set(m.timezone, (counts.get(m.timezone) ?? 0) + 1);
	return fleetShape.shapeFleet(
		[...counts].map(([timezone, count]) => ({ timezone, count })),
		window,
		night,
	);
}

/**
 * Peak/mean of the busiest UTC minute for `n` machines, with slots and without (everyone at the
 * window's start); the mean is over the minutes with an arrival in either.
 */
export function scheduleOnly({ n, slots, fleetShape, window, night, tenantId = "ten_schedule" }) {
	const withSlots = new Map();
	const without = new Map();
	const zoneHists = new Map();
	const all = buildFleet(n);
	const ranks = zoneRanks(all);
	const curves = shapeOf(fleetShape, all, window, night);
	for (const m of all) {
		const slot = slots.slotFor(
			{ tenantId, deviceId: m.device_id, timezone: m.timezone, rank: ranks.get(m.device_id) },
			window,
			night,
			() => curves.plans.get(m.timezone),
		);
		addArrival(withSlots, slot.at);
		addArrival(without, slot.windowStart);
		const z = zoneHists.get(m.timezone) ?? new Map();
		addArrival(z, slot.at);
		zoneHists.set(m.timezone, z);
	}
	const minutes = new Set([...withSlots.keys(), ...without.keys()]);
	return {
		machines: n,
		active_minutes: minutes.size,
		with_slots: peakToMean(withSlots, minutes),
		without_slots: peakToMean(without, minutes),
		per_zone: zonePeakToMean(zoneHists, window.durationMinutes),
		histogram: histogramRows(withSlots, without),
	};
}
