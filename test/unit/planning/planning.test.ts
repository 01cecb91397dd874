import { describe, expect, it } from "vitest";
import { ticketsForReport } from "../../../src/planning/maintenance";
import { planRestock } from "../../../src/planning/restock";
import { lastClosedNight } from "../../../src/planning/route-plans";

describe("restock math", () => {
	it("refills slots at or below a quarter of capacity to full, in slot order", () => {
		const needs = planRestock([
			{ slot: "A10", sku: "cola", count: 2, capacity: 10 },
			{ slot: "A2", sku: "water", count: 3, capacity: 12 },
			{ slot: "A3", sku: "chips", count: 4, capacity: 12 },
			{ slot: "A1", sku: "gum", count: 0, capacity: 20 },
		]);
		expect(needs).toEqual([
			{ slot: "A1", sku: "gum", count: 0, capacity: 20, quantity: 20 },
			{ slot: "A2", sku: "water", count: 3, capacity: 12, quantity: 9 },
			{ slot: "A10", sku: "cola", count: 2, capacity: 10, quantity: 8 },
		]);
	});

	it("honours thresholds, ignores empty capacity and clamps impossible counts", () => {
		const inventory = [
			{ slot: 1, sku: "a", count: 5, capacity: 10 },
			{ slot: 2, sku: "b", count: 0, capacity: 0 },
			{ slot: 3, sku: "c", count: -4, capacity: 6 },
			{ slot: 4, sku: "d", count: 99, capacity: 6 },
		];
		expect(planRestock(inventory, { refillAtFraction: 0.5, minQuantity: 1 }).map((n) => [n.slot, n.quantity])).toEqual([
			["1", 5],
			["3", 6],
		]);
		expect(
			planRestock([{ slot: 1, sku: "a", count: 1, capacity: 2 }], { refillAtFraction: 0.5, minQuantity: 2 }),
		).toEqual([]);
	});

	it("counts a slot listed twice once, as its last line", () => {
		expect(
			planRestock([
				{ slot: "B1", sku: "x", count: 0, capacity: 5 },
				{ slot: "B1", sku: "x", count: 5, capacity: 5 },
			]),
		).toEqual([]);
	});
});

describe("maintenance tickets from a report", () => {
	it("opens one ticket per distinct error code and one for a temperature out of range", () => {
		expect(
			ticketsForReport({ temperature_c: 4, error_codes: ["E12", "E12", "COIN_JAM"] }).map((t) => t.reason),
		).toEqual(["error:E12", "error:COIN_JAM"]);
		expect(ticketsForReport({ temperature_c: 14.5, error_codes: [] }).map((t) => t.reason)).toEqual([
			"temperature_high",
		]);
		expect(ticketsForReport({ temperature_c: -2 }).map((t) => t.reason)).toEqual(["temperature_low"]);
		expect(ticketsForReport({ temperature_c: 11 }, { minC: 0, maxC: 12 })).toEqual([]);
		expect(ticketsForReport({ temperature_c: null, error_codes: null })).toEqual([]);
	});
});

describe("the night a missed-report check looks at", () => {
	const window = { startMinute: 0, durationMinutes: 120 };
	const grace = 60 * 60_000;

	it("is tonight once the window and grace are over, else the night before", () => {
		// Berlin in May is UTC+2: tonight's window is 22:00Z-00:00Z, closed with grace at 01:00Z.
		expect(lastClosedNight("Europe/Berlin", window, grace, Date.UTC(2026, 4, 10, 1, 0))).toMatchObject({
			date: "2026-05-10",
			windowStart: Date.UTC(2026, 4, 9, 22),
		});
		expect(lastClosedNight("Europe/Berlin", window, grace, Date.UTC(2026, 4, 10, 0, 59))).toMatchObject({
			date: "2026-05-09",
		});
	});
});
