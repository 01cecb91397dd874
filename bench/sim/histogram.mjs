// Per-minute arrival histograms and their peak-to-mean ratios.

/** Adds one arrival at simulated time `ms` to `hist` (Map: UTC minute index -> count). */
export function addArrival(hist, ms) {
	const minute = Math.floor(ms / 60_000);
	hist.set(minute, (hist.get(minute) ?? 0) + 1);
}

/**
 * Peak-to-mean over a set of minutes: the busiest minute divided by (arrivals / number of
 * minutes in `minutes`). The caller passes the minutes of the night that have an arrival in
 * either run (with or without slots), so both ratios share one denominator.
 */
export function peakToMean(hist, minutes) {
	let total = 0;
	let peak = 0;
	for (const m of minutes) {
		const v = hist.get(m) ?? 0;
		total += v;
		if (v > peak) peak = v;
	}
	const mean = minutes.size === 0 ? 0 : total / minutes.size;
	return { peak, mean: Math.round(mean * 100) / 100, ratio: mean === 0 ? 0 : Math.round((peak / mean) * 100) / 100 };
}

/** Per zone: busiest minute of its window over the mean minute of its window (window minutes). */
export function zonePeakToMean(arrivalsByZone, windowMinutes) {
	const out = {};
	for (const [zone, hist] of arrivalsByZone) {
		const total = [...hist.values()].reduce((a, b) => a + b, 0);
		const mean = total / windowMinutes;
		const peak = Math.max(0, ...hist.values());
		out[zone] = {
			machines: total,
			peak,
			mean: Math.round(mean * 100) / 100,
			ratio: Math.round((peak / mean) * 100) / 100,
		};
	}
	return out;
}

/** Rows for the dashboard: every minute from the first to the last arrival of either run. */
export function histogramRows(withSlots, withoutSlots) {
	const all = [...withSlots.keys(), ...withoutSlots.keys()];
	if (all.length === 0) return [];
	const first = Math.min(...all);
	const last = Math.max(...all);
	const rows = [];
	for (let m = first; m <= last; m++) {
		rows.push({
			minute_utc: new Date(m * 60_000).toISOString(),
			with_slots: withSlots.get(m) ?? 0,
			without_slots: withoutSlots.get(m) ?? 0,
		});
	}
	return rows;
}
