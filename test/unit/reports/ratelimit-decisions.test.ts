import { describe, expect, it } from "vitest";
import type { KeyAggregate } from "../../../src/reports/ratelimit-decisions";
import { aggregateDecisions, decisionRow, mergeKeyAggregate } from "../../../src/reports/ratelimit-decisions";

const M = 60_000;

describe("ratelimit_decisions aggregation", () => {
	it("sums minutes per key and keeps the busiest minute, the earliest on a tie, whichever order parts come in", () => {
		const rows = [
			{ minute: 3 * M, resource: "login", limit_key: "a", allowed: 5, rejected: 5 },
			{ minute: 1 * M, resource: "login", limit_key: "a", allowed: 10, rejected: 0 },
			{ minute: 2 * M, resource: "login", limit_key: "b", allowed: 1, rejected: 0 },
			{ minute: 2 * M, resource: "other", limit_key: "a", allowed: 1, rejected: 1 },
		];
		const byKey = new Map<string, KeyAggregate>();
		aggregateDecisions(byKey, rows, ["login"]);
		expect([...byKey.values()].map(decisionRow)).toEqual([
			{
				resource: "login",
				key: "a",
				requests: 20,
				allowed: 15,
				rejected: 5,
				rejection_rate: 0.25,
				peak_minute: new Date(1 * M).toISOString(),
				peak_minute_requests: 10,
				peak_minute_rejected: 0,
			},
			expect.objectContaining({ key: "b", requests: 1, rejection_rate: 0 }),
		]);
		// Merging two halves in either order gives the same peak.
		const early: KeyAggregate = {
			resource: "r",
			key: "k",
			allowed: 4,
			rejected: 0,
			peak_minute: M,
			peak_requests: 4,
			peak_rejected: 0,
		};
		const late: KeyAggregate = { ...early, peak_minute: 5 * M, peak_rejected: 2 };
		for (const order of [
			[early, late],
			[late, early],
		]) {
			const into = new Map<string, KeyAggregate>();
			for (const part of order) mergeKeyAggregate(into, part);
			expect(into.get("r\nk")).toMatchObject({ allowed: 8, peak_minute: M, peak_rejected: 0 });
		}
	});
});
