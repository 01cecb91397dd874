import { describe, expect, it } from "vitest";
import { aggregateSteps, chooseTier, counterRate, pointCount } from "../../../src/metrics/query-domain";

describe("query planning", () => {
	it("picks the coarsest tier whose resolution divides the step", () => {
		expect(chooseTier(15_000)).toBe("raw");
		expect(chooseTier(90_000)).toBe("raw");
		expect(chooseTier(60_000)).toBe("1m");
		expect(chooseTier(300_000)).toBe("1m");
		expect(chooseTier(3_600_000)).toBe("1h");
		expect(chooseTier(86_400_000)).toBe("1h");
	});

	it("counts the steps of a range", () => {
		expect(pointCount(0, 60_000, 60_000)).toBe(1);
		expect(pointCount(0, 60_001, 60_000)).toBe(2);
		expect(pointCount(0, 11_000_000, 1_000)).toBe(11_000);
	});

	it("aggregates per-step rows, leaving empty steps null", () => {
		const rows = [{ i: 1, min: 1, max: 5, sum: 9, count: 3 }];
		expect(aggregateSteps("sum", rows, 3)).toEqual([null, 9, null]);
		expect(aggregateSteps("avg", rows, 3)).toEqual([null, 3, null]);
		expect(aggregateSteps("max", rows, 3)).toEqual([null, 5, null]);
		expect(aggregateSteps("min", rows, 3)).toEqual([null, 1, null]);
	});

	it("rates counters per second, across windows and through a reset", () => {
		const row = (series_id: string, i: number, min: number, max: number) => ({
			series_id,
			i,
			min,
			max,
			sum: 0,
			count: 1,
		});
		const rates = counterRate(
			[row("a", 0, 0, 60), row("a", 1, 70, 120), row("a", 2, 3, 30), row("b", 1, 10, 70)],
			3,
			60_000,
		);
		// a: 60/60 = 1; then 120-60 = 60 (+ b's 60) = 2/s; then a reset: 30-3 = 27 → 0.45/s.
		expect(rates).toEqual([1, 2, 0.45]);
	});
});
