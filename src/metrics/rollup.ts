import type { QueuedSample } from "./domain";
import { sortedBuckets } from "./domain";

/** Storage tiers: raw samples, then 1-minute and 1-hour rollups (resolution in ms; raw is 0). */
export const TIERS = { raw: 0, "1m": 60_000, "1h": 3_600_000 } as const;
export type TierName = keyof typeof TIERS;
export const ROLLUP_RESOLUTIONS = [TIERS["1m"], TIERS["1h"]] as const;

export type RollupRow = {
	seriesId: string;
	resolutionMs: number;
	bucketStart: number;
	min: number;
	max: number;
	sum: number;
	count: number;
	last: number;
	lastTs: number;
	buckets: Record<string, number> | null;
};

/**
 * One message's samples folded into rollup rows of one resolution. The store adds these to what
 * it holds with the same merge (min of mins, max of maxes, sums and counts added, the later last,
 * buckets added by le), so folding a message's rows once per message is exact.
 */
export function rollUp(samples: readonly QueuedSample[], resolutionMs: number): RollupRow[] {
	const rows = new Map<string, RollupRow>();
	for (const s of samples) {
		const bucketStart = Math.floor(s.ts / resolutionMs) * resolutionMs;
		const key = `${s.series_id}:${bucketStart}`;
		const one: RollupRow = {
			seriesId: s.series_id,
			resolutionMs,
			bucketStart,
			min: s.value,
			max: s.value,
			sum: s.value,
			count: 1,
			last: s.value,
			lastTs: s.ts,
			buckets: s.buckets,
		};
		const seen = rows.get(key);
		rows.set(key, seen ? mergeRollups(seen, one) : one);
	}
	return [...rows.values()];
}

export function mergeRollups(a: RollupRow, b: RollupRow): RollupRow {
	const later = b.lastTs >= a.lastTs ? b : a;
	return {
		...a,
		min: Math.min(a.min, b.min),
		max: Math.max(a.max, b.max),
		sum: a.sum + b.sum,
		count: a.count + b.count,
		last: later.last,
		lastTs: later.lastTs,
		buckets: mergeBuckets(a.buckets, b.buckets),
	};
}

/** Histogram buckets added by le (a missing side counts as empty). */
export function mergeBuckets(
	a: Readonly<Record<string, number>> | null,
	b: Readonly<Record<string, number>> | null,
): Record<string, number> | null {
	if (!a) return b ? { ...b } : null;
	if (!b) return { ...a };
	const out: Record<string, number> = { ...a };
	for (const [le, n] of Object.entries(b)) out[le] = (out[le] ?? 0) + n;
	return out;
}

/**
 * Prometheus' histogram_quantile: the bucket holding the q-th observation, then linear
 * interpolation inside it (from 0 for the first bucket); in the +Inf bucket, the highest finite
 * bound. Null without observations or with fewer than two buckets.
 */
export function histogramQuantile(q: number, buckets: Readonly<Record<string, number>> | null): number | null {
	if (!buckets) return null;
	const sorted = sortedBuckets(buckets);
	const inf = sorted.at(-1);
	if (sorted.length < 2 || !inf || inf[0] !== Infinity || inf[1] <= 0) return null;
	const rank = q * inf[1];
	let start = 0;
	let below = 0;
	for (const [index, [end, count]] of sorted.entries()) {
		if (count < rank) {
			start = end;
			below = count;
			continue;
		}
		// The +Inf bucket: the highest finite bound (Prometheus' answer).
		if (end === Infinity) return start;
		if (index === 0 && end <= 0) return end;
		const inBucket = count - below;
		return inBucket === 0 ? end : start + (end - start) * ((rank - below) / inBucket);
	}
	return null;
}
