import { describe, expect, it } from "vitest";
import { histogramQuantile, mergeBuckets, mergeRollups, rollUp } from "../../../src/metrics/rollup";

const HOUR = 3_600_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % HOUR);

describe("rollups", () => {
	it("folds samples into min, max, sum, count and last per window", () => {
		const samples = [
			{ series_id: "s1", ts: T0 + 1_000, value: 5, buckets: null },
			{ series_id: "s1", ts: T0 + 30_000, value: 2, buckets: null },
			{ series_id: "s1", ts: T0 + 20_000, value: 9, buckets: null },
			{ series_id: "s1", ts: T0 + 61_000, value: 4, buckets: null },
			{ series_id: "s2", ts: T0 + 2_000, value: 1, buckets: null },
		];
		const minute = rollUp(samples, 60_000);
		const first = minute.find((r) => r.seriesId === "s1" && r.bucketStart === T0);
		expect(first).toMatchObject({ min: 2, max: 9, sum: 16, count: 3, last: 2, lastTs: T0 + 30_000 });
		expect(minute.find((r) => r.seriesId === "s1" && r.bucketStart === T0 + 60_000)).toMatchObject({
			sum: 4,
			count: 1,
		});
		expect(minute).toHaveLength(3);
		const hour = rollUp(samples, HOUR);
		expect(hour.find((r) => r.seriesId === "s1")).toMatchObject({
			bucketStart: T0,
			min: 2,
			max: 9,
			sum: 20,
			count: 4,
			last: 4,
		});
	});

	it("merges histogram buckets by le and keeps the later last", () => {
		const a = rollUp([{ series_id: "h", ts: T0 + 5, value: 1, buckets: { "1": 1, "+Inf": 2 } }], 60_000)[0];
		const b = rollUp([{ series_id: "h", ts: T0 + 1, value: 3, buckets: { "1": 2, "2": 3, "+Inf": 3 } }], 60_000)[0];
		if (!a || !b) throw new Error("no rollup");
		const merged = mergeRollups(a, b);
		expect(merged.buckets).toEqual({ "1": 3, "2": 3, "+Inf": 5 });
		expect(merged.last).toBe(1);
		expect(mergeBuckets(null, null)).toBeNull();
	});
});

describe("histogramQuantile", () => {
	it("interpolates linearly inside the bucket holding the rank", () => {
		// 100 observations: 50 <= 0.1, 90 <= 0.5, 100 <= 1. p95: rank 95, in (0.5, 1], 5 of 10 → 0.75.
		expect(histogramQuantile(0.95, { "0.1": 50, "0.5": 90, "1": 100, "+Inf": 100 })).toBeCloseTo(0.75);
		// p50: rank 50 reached exactly at the first bucket's bound, interpolated from 0.
		expect(histogramQuantile(0.5, { "0.1": 50, "0.5": 90, "1": 100, "+Inf": 100 })).toBeCloseTo(0.1);
	});

	it("answers the highest finite bound when the rank falls in +Inf", () => {
		expect(histogramQuantile(0.95, { "0.1": 1, "0.5": 2, "+Inf": 10 })).toBe(0.5);
	});

	it("has no answer without observations or buckets", () => {
		expect(histogramQuantile(0.95, { "+Inf": 0, "1": 0 })).toBeNull();
		expect(histogramQuantile(0.95, { "+Inf": 3 })).toBeNull();
		expect(histogramQuantile(0.95, null)).toBeNull();
	});
});
