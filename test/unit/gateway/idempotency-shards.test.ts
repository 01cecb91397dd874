import { describe, expect, it } from "vitest";
import { fnv1a, parseShardPlans, planFor, shardIndex, shardNames } from "../../../src/gateway/idempotency/shards";

const NOW = Date.parse("2026-12-01T00:00:00Z");

describe("idempotency shard placement", () => {
	it("hashes stably (FNV-1a test vectors) and places every key inside the count", () => {
		expect(fnv1a("")).toBe(0x811c9dc5);
		expect(fnv1a("a")).toBe(0xe40c292c);
		expect(fnv1a("foobar")).toBe(0xbf9cf968);
		for (let i = 0; i < 1000; i++) {
			const index = shardIndex(`ten_1:key-${i}`, 7);
			expect(index).toBeGreaterThanOrEqual(0);
			expect(index).toBeLessThan(7);
		}
	});

	it("spreads sequential keys evenly enough that no shard takes more than 1.5x its share", () => {
		const counts = Array.from({ length: 16 }, () => 0);
		for (let i = 0; i < 16_000; i++) {
			const index = shardIndex(`ten_1:order-${i}`, 16);
			counts[index] = (counts[index] ?? 0) + 1;
		}
		expect(Math.max(...counts)).toBeLessThan(1500);
		expect(Math.min(...counts)).toBeGreaterThan(500);
	});

	it("takes a tenant's own plan, else '*', else the default count", () => {
		const plans = parseShardPlans('{"ten_a":{"shards":64},"*":{"shards":32}}');
		expect(planFor("ten_a", plans, 16)).toEqual({ shards: 64, previous: null });
		expect(planFor("ten_b", plans, 16)).toEqual({ shards: 32, previous: null });
		expect(planFor("ten_b", parseShardPlans(""), 16)).toEqual({ shards: 16, previous: null });
	});

	it("refuses a malformed plan or a count out of range", () => {
		expect(() => parseShardPlans('{"ten_a":{"shards":0}}')).toThrow();
		expect(() => parseShardPlans('{"ten_a":{"shards":2000}}')).toThrow();
		expect(() => parseShardPlans('{"ten_a":{"shards":4,"previous_until":"tomorrow"}}')).toThrow();
		expect(() => planFor("ten_a", {}, 0)).toThrow();
	});

	it("also names a moved key's previous shard during the growth window, and only then", () => {
		const plans = parseShardPlans('{"ten_a":{"shards":8,"previous_shards":1,"previous_until":"2026-12-02T00:00:00Z"}}');
		const plan = planFor("ten_a", plans, 16);
		expect(plan.previous).toEqual({ shards: 1, until: Date.parse("2026-12-02T00:00:00Z") });
		let moved = 0;
		for (let i = 0; i < 64; i++) {
			const scope = `ten_a:k-${i}`;
			const names = shardNames("ten_a", scope, plan, NOW);
			const home = `ten_a:${shardIndex(scope, 8)}`;
			expect(names[0]).toBe(home);
			if (home === "ten_a:0") expect(names).toEqual([home]);
			else {
				moved += 1;
				expect(names).toEqual([home, "ten_a:0"]);
			}
			expect(shardNames("ten_a", scope, plan, Date.parse("2026-12-02T00:00:00Z"))).toEqual([home]);
		}
		expect(moved).toBeGreaterThan(40);
	});
});
