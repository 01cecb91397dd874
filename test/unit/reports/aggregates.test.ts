import { describe, expect, it } from "vitest";
import { aggregateJobs, jobTypeRow } from "../../../src/reports/job-latency";
import type { JobTypeAggregate } from "../../../src/reports/job-latency";
import { addToSketch, emptySketch, mergeSketches, sketchPercentile } from "../../../src/reports/sketch";
import { addDay, emptyTotals, machineDay, parseInventory } from "../../../src/reports/vending-sales";

describe("latency sketch", () => {
	it("reads percentiles within 1% of the exact ones, also after merging halves", () => {
		const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10);
		const whole = emptySketch();
		const a = emptySketch();
		const b = emptySketch();
		values.forEach((v, i) => {
			addToSketch(whole, v);
			addToSketch(i % 2 ? a : b, v);
		});
		mergeSketches(a, b);
		expect(a).toEqual(whole);
		for (const [p, exact] of [
			[50, 5000],
			[95, 9500],
			[99, 9900],
		] as const) {
			const got = sketchPercentile(whole, p) ?? 0;
			expect(Math.abs(got - exact) / exact).toBeLessThan(0.01);
		}
		expect(sketchPercentile(emptySketch(), 50)).toBeNull();
	});
});

describe("job latency", () => {
	it("counts outcomes per type, measures completed jobs only and filters types", () => {
		const byType = new Map<string, JobTypeAggregate>();
		aggregateJobs(
			byType,
			[
				{ type: "email", status: "completed", created_at: 0, started_at: 100, completed_at: 1000 },
				{ type: "email", status: "dead", created_at: 0, started_at: 0, completed_at: 50_000 },
				{ type: "email", status: "cancelled", created_at: 0, started_at: null, completed_at: 5 },
				{ type: "other", status: "completed", created_at: 0, started_at: 0, completed_at: 10 },
			],
			["email"],
		);
		expect([...byType.keys()]).toEqual(["email"]);
		const row = jobTypeRow("email", byType.get("email") ?? emptyAggregateGuard(), 24);
		expect(row).toMatchObject({ type: "email", completed: 1, dead: 1, cancelled: 1 });
		expect(row.completed_per_hour).toBeCloseTo(1 / 24, 3);
		expect(Math.abs((row.latency_p50_ms ?? 0) - 1000)).toBeLessThan(10);
		expect(Math.abs((row.run_p50_ms ?? 0) - 900)).toBeLessThan(9);
	});
});

describe("vending sales", () => {
	const slot = (s: string, sku: string, count: number, capacity = 10) => ({ slot: s, sku, count, capacity });

	it("derives sold, restocked, stock-outs and restock needs from two days", () => {
		const day = machineDay(
			"m1",
			"Oslo",
			[slot("A", "cola", 0), slot("B", "chips", 9), slot("C", "gum", 4)],
			[slot("A", "cola", 3), slot("B", "chips", 2), slot("C", "mints", 7)],
		);
		expect(day).toEqual({
			machine_id: "m1",
			city: "Oslo",
			units_sold: 3,
			units_restocked: 7 + 4,
			stockout_slots: 1,
			restock_units: 10 + 1 + 6,
			compared: true,
		});
	});

	it("knows no sales without the previous day, and keeps the latest day's restock need", () => {
		const first = machineDay("m1", null, [slot("A", "cola", 2)], null);
		expect(first).toMatchObject({ units_sold: 0, compared: false, restock_units: 8 });
		const totals = emptyTotals();
		addDay(totals, first, true);
		addDay(totals, machineDay("m1", null, [slot("A", "cola", 1)], [slot("A", "cola", 2)]), true);
		expect(totals).toEqual({
			days_reported: 2,
			days_compared: 1,
			units_sold: 1,
			units_restocked: 0,
			stockout_slot_days: 0,
			restock_units: 9,
		});
	});

	it("reads a stored inventory and treats a corrupt one as empty", () => {
		expect(parseInventory('[{"slot":"A","sku":"x","count":1,"capacity":2}]')).toHaveLength(1);
		expect(parseInventory("not json")).toEqual([]);
		expect(parseInventory(null)).toBeNull();
	});
});

function emptyAggregateGuard(): JobTypeAggregate {
	throw new Error("expected an aggregate for email");
}
