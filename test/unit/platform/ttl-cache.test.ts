import { describe, expect, it } from "vitest";
import { TtlCache } from "../../../src/platform/ttl-cache";

describe("TtlCache", () => {
	it("expires entries after their ttl and drops the oldest when full", () => {
		const cache = new TtlCache<string, number>({ ttlMs: 100, maxEntries: 2 });
		cache.set("a", 1, 100, 0);
		cache.set("b", 2, 100, 0);
		expect(cache.get("a", 99)).toBe(1);
		expect(cache.get("a", 100)).toBeUndefined();
		cache.set("c", 3, 100, 0);
		cache.set("d", 4, 100, 0);
		expect(cache.get("b", 1)).toBeUndefined();
		expect([cache.get("c", 1), cache.get("d", 1)]).toEqual([3, 4]);
	});

	it("keeps the summed weight under maxWeight, oldest out first, and refuses a value heavier than the cap", () => {
		const cache = new TtlCache<string, string>({
			ttlMs: 1_000,
			maxEntries: 100,
			maxWeight: 10,
			weigh: (v) => v.length,
		});
		cache.set("a", "aaaa", 1_000, 0);
		cache.set("b", "bbbb", 1_000, 0);
		expect(cache.weight).toBe(8);
		cache.set("c", "cccc", 1_000, 0);
		expect(cache.get("a", 1)).toBeUndefined();
		expect(cache.weight).toBe(8);
		cache.set("b", "bb", 1_000, 0);
		expect(cache.weight).toBe(6);
		cache.set("huge", "x".repeat(11), 1_000, 0);
		expect(cache.get("huge", 1)).toBeUndefined();
		expect(cache.weight).toBe(6);
		cache.deleteWhere((v) => v === "bb");
		expect(cache.weight).toBe(4);
		// An expired entry leaves (and gives its weight back) when read.
		expect(cache.get("c", 5_000)).toBeUndefined();
		expect(cache.weight).toBe(0);
		cache.set("d", "dd", 1_000, 0);
		cache.clear();
		expect([cache.size, cache.weight]).toEqual([0, 0]);
	});
});
