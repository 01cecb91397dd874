import type { TierName } from "./rollup";
import { TIERS } from "./rollup";

/** Query planning and step aggregation. Pure: no I/O. */

export const QUERY_AGGS = ["sum", "avg", "max", "min", "rate", "p95"] as const;
export type QueryAgg = (typeof QUERY_AGGS)[number];

export const QUERY_LIMITS = {
	maxPoints: 11_000,
	/** Rows read for a rate (one per series per step), so a wide match cannot flood the isolate. */
	maxRateRows: 100_000,
	maxMatchers: 16,
} as const;

export type StepRow = { i: number; min: number; max: number; sum: number; count: number };
export type SeriesStepRow = StepRow & { series_id: string };

/** The coarsest tier whose resolution divides the step (raw when the step is under a minute). */
export function chooseTier(stepMs: number): TierName {
	if (stepMs % TIERS["1h"] === 0) return "1h";
	if (stepMs % TIERS["1m"] === 0) return "1m";
	return "raw";
}

/** How many steps [from, to) holds: windows [from + i·step, from + (i+1)·step). */
export function pointCount(fromMs: number, toMs: number, stepMs: number): number {
	return Math.ceil((toMs - fromMs) / stepMs);
}

/** One value per window from per-window aggregates (null where a window has no data). */
export function aggregateSteps(
	agg: "sum" | "avg" | "max" | "min",
	rows: readonly StepRow[],
	points: number,
): (number | null)[] {
	const out: (number | null)[] = Array.from({ length: points }, () => null);
	for (const r of rows) {
		if (r.i < 0 || r.i >= points || r.count === 0) continue;
		out[r.i] = agg === "sum" ? r.sum : agg === "avg" ? r.sum / r.count : agg === "max" ? r.max : r.min;
	}
	return out;
}

/**
 * Per-second rate of counters summed over series. A counter only grows within a window, so its
 * max is its latest value: a window's increase is its max less the previous window's max, or
 * (the first window, or after a reset when the value fell) its max less its min.
 */
export function counterRate(rows: readonly SeriesStepRow[], points: number, stepMs: number): (number | null)[] {
	const bySeries = new Map<string, Map<number, SeriesStepRow>>();
	for (const r of rows) {
		const windows = bySeries.get(r.series_id) ?? new Map<number, SeriesStepRow>();
		windows.set(r.i, r);
		bySeries.set(r.series_id, windows);
	}
	const out: (number | null)[] = Array.from({ length: points }, () => null);
	for (const windows of bySeries.values()) {
		for (const [i, r] of windows) {
			if (i < 0 || i >= points) continue;
			const prev = windows.get(i - 1);
			const increase = prev && r.max >= prev.max ? r.max - prev.max : r.max - r.min;
			out[i] = (out[i] ?? 0) + increase / (stepMs / 1000);
		}
	}
	return out;
}
