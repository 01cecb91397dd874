import { describe, expect, it } from "vitest";
import { chunkJsonRows } from "../../../src/platform/sql-db";
import { PRIORITY_PATTERN, positionOf, slotPositions } from "../../../src/jobs/priority";
import { MAX_TOKEN_COUNT, planRunTokens, runTokenSchema, tokenUnits } from "../../../src/jobs/tokens";

const NOW = 1_800_000_000_000;
const req = (tenantId: string, i: number, delayMs = 0) => ({ tenantId, jobId: `job_${i}`, readyAt: NOW + delayMs });

describe("run token plans", () => {
	it("folds a tenant's jobs due in the same second into tokens of at most 100 units", () => {
		const { direct, timers } = planRunTokens(
			Array.from({ length: 250 }, (_, i) => req("t1", i)),
			NOW,
		);
		expect(direct.map((m) => m.body)).toEqual([
			{ tenant_id: "t1", count: 100 },
			{ tenant_id: "t1", count: 100 },
			{ tenant_id: "t1", count: 50 },
		]);
		expect(direct.every((m) => m.delaySeconds === undefined)).toBe(true);
		expect(timers).toEqual([]);
	});

	it("keeps tenants and ready seconds apart, never delivering a token before its jobs are ready", () => {
		const { direct } = planRunTokens(
			[req("t1", 1), req("t2", 2), req("t1", 3, 1_500), req("t1", 4, 1_999), req("t1", 5, 2_001)],
			NOW,
		);
		expect(direct).toEqual([
			{ body: { tenant_id: "t1", job_id: "job_1" } },
			{ body: { tenant_id: "t2", job_id: "job_2" } },
			{ body: { tenant_id: "t1", count: 2 }, delaySeconds: 2 },
			{ body: { tenant_id: "t1", job_id: "job_5" }, delaySeconds: 3 },
		]);
	});

	it("leaves delays beyond the Queues maximum to a timer, one per job", () => {
		const { direct, timers } = planRunTokens([req("t1", 1, 13 * 3600_000), req("t1", 2, 13 * 3600_000)], NOW);
		expect(direct).toEqual([]);
		expect(timers.map((t) => t.jobId)).toEqual(["job_1", "job_2"]);
	});

	it("reads a token's units, 1 for the single-job form, and bounds the count", () => {
		expect(tokenUnits(runTokenSchema.parse({ tenant_id: "t", job_id: "job_1" }))).toBe(1);
		expect(tokenUnits(runTokenSchema.parse({ tenant_id: "t", count: MAX_TOKEN_COUNT }))).toBe(100);
		expect(runTokenSchema.safeParse({ tenant_id: "t", count: 101 }).success).toBe(false);
		expect(runTokenSchema.safeParse({ tenant_id: "t", count: 1.5 }).success).toBe(false);
		expect(runTokenSchema.safeParse({ tenant_id: "t", count: 2, extra: 1 }).success).toBe(false);
	});
});

describe("JSON row chunks for multi-row statements", () => {
	it("splits rows so each chunk stays within the character limit, in order", () => {
		const rows = Array.from({ length: 10 }, (_, i) => ["x".repeat(20), i]);
		const chunks = chunkJsonRows(rows, 100);
		expect(chunks.every((c) => c.length <= 100)).toBe(true);
		expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(rows);
		expect(chunks.length).toBeGreaterThan(1);
	});

	it("puts a row larger than the limit alone rather than dropping it", () => {
		const chunks = chunkJsonRows([["a"], ["b".repeat(500)], ["c"]], 100);
		expect(chunks.map((c) => JSON.parse(c))).toEqual([[["a"]], [["b".repeat(500)]], [["c"]]]);
	});

	it("counts UTF-8 bytes, not characters: three-byte characters make smaller chunks", () => {
		const rows = Array.from({ length: 10 }, (_, i) => ["€".repeat(20), i]);
		const chunks = chunkJsonRows(rows, 100);
		for (const c of chunks) expect(new TextEncoder().encode(c).length).toBeLessThanOrEqual(100);
		expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(rows);
	});

	it("makes no statement for no rows", () => {
		expect(chunkJsonRows([])).toEqual([]);
	});
});

describe("weighted round-robin positions", () => {
	it("gives every slot of each cycle to exactly one priority's next job, from any offset", () => {
		for (let offset = 0; offset < PRIORITY_PATTERN.length; offset++) {
			const slots = slotPositions(offset);
			const cycle = (c: number) => [
				...Array.from({ length: 5 }, (_, k) => positionOf(slots, "high", c * 5 + k)),
				...Array.from({ length: 3 }, (_, k) => positionOf(slots, "medium", c * 3 + k)),
				positionOf(slots, "low", c),
			];
			expect(cycle(0).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
			expect(cycle(2).sort((a, b) => a - b)).toEqual([18, 19, 20, 21, 22, 23, 24, 25, 26]);
			// The job at position 0 is the pattern's slot at the offset.
			const first = (["high", "medium", "low"] as const).find((p) => positionOf(slots, p, 0) === 0);
			expect(first).toBe(PRIORITY_PATTERN[offset]);
		}
	});
});
