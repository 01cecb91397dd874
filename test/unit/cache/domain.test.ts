import { describe, expect, it } from "vitest";
import type { EvictionCandidate } from "../../../src/cache/domain";
import {
	CACHE_LIMITS,
	chooseVictims,
	entryBytes,
	evictionOrder,
	shardCapBytes,
	shouldRefreshEarly,
	sumStats,
	ttlRemainingSeconds,
} from "../../../src/cache/domain";

const NOW = 1_800_000_000_000;
const entry = (
	key: string,
	lastAccess: number,
	hits: number,
	bytes = 100,
	expiresAt = NOW + 60_000,
): EvictionCandidate => ({
	key,
	bytes,
	lastAccess,
	hits,
	expiresAt,
});

describe("eviction order", () => {
	const entries = [entry("hot-old", NOW - 5000, 50), entry("cold-new", NOW - 100, 1), entry("warm-mid", NOW - 2000, 5)];

	it("LRU evicts the least recently used first", () => {
		expect(evictionOrder(entries, "lru", NOW).map((e) => e.key)).toEqual(["hot-old", "warm-mid", "cold-new"]);
	});

	it("LFU evicts the least frequently used first, the older access first among equals", () => {
		const tied = [...entries, entry("cold-old", NOW - 9000, 1)];
		expect(evictionOrder(tied, "lfu", NOW).map((e) => e.key)).toEqual(["cold-old", "cold-new", "warm-mid", "hot-old"]);
	});

	it("evicts expired entries before any live one under either policy", () => {
		const expired = entry("expired-hot", NOW, 1000, 100, NOW - 1);
		for (const policy of ["lru", "lfu"] as const) {
			expect(evictionOrder([...entries, expired], policy, NOW)[0]?.key).toBe("expired-hot");
		}
	});

	it("chooses just enough victims to get under the cap, never the kept key", () => {
		const ordered = evictionOrder(entries, "lru", NOW);
		expect(chooseVictims(ordered, 300, 250, null).map((e) => e.key)).toEqual(["hot-old"]);
		expect(chooseVictims(ordered, 300, 150, "hot-old").map((e) => e.key)).toEqual(["warm-mid", "cold-new"]);
		expect(chooseVictims(ordered, 300, 300, null)).toEqual([]);
	});
});

describe("XFetch early refresh", () => {
	it("refreshes when ttl_remaining < -β·delta·ln(random), deterministically for a given random", () => {
		// -ln(0.5) ≈ 0.693: with delta 1000 ms the threshold is ≈ 693 ms.
		expect(shouldRefreshEarly(600, 1000, 0.5)).toBe(true);
		expect(shouldRefreshEarly(800, 1000, 0.5)).toBe(false);
		// β = 2 doubles the threshold.
		expect(shouldRefreshEarly(800, 1000, 0.5, 2)).toBe(true);
	});

	it("never refreshes a value that took no time to load, always refreshes an expired one", () => {
		expect(shouldRefreshEarly(1, 0, 0.000001)).toBe(false);
		expect(shouldRefreshEarly(0, 0, 0.9)).toBe(true);
		expect(shouldRefreshEarly(-5, 100, 0.9)).toBe(true);
	});

	it("refreshes more often as expiry nears (fraction over a grid of random draws)", () => {
		const rate = (ttl: number) => {
			const draws = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
			return draws.filter((r) => shouldRefreshEarly(ttl, 1000, r)).length / draws.length;
		};
		expect(rate(100)).toBeGreaterThan(rate(1000));
		expect(rate(1000)).toBeGreaterThan(rate(3000));
		expect(rate(100)).toBeCloseTo(Math.exp(-0.1), 2);
		expect(shouldRefreshEarly(10, 1000, 0)).toBe(true);
	});
});

describe("sizes, caps and figures", () => {
	it("counts key, value and tags in UTF-8 bytes", () => {
		expect(entryBytes("k", '"é"', ["t1"])).toBe(1 + 4 + 2);
	});

	it("gives each shard its share of a namespace cap, 10 MB by default", () => {
		expect(shardCapBytes(null, 8)).toBe(CACHE_LIMITS.defaultShardBytes);
		expect(shardCapBytes(8000, 8)).toBe(1000);
		expect(shardCapBytes(1025, 8)).toBe(128);
	});

	it("sums shards and computes the hit rate, 0 before any lookup", () => {
		const zero = { totalKeys: 0, memoryUsed: 0, hits: 0, misses: 0, evictions: 0 };
		expect(sumStats([zero, zero]).hit_rate).toBe(0);
		const figures = sumStats([
			{ totalKeys: 2, memoryUsed: 10, hits: 3, misses: 1, evictions: 1 },
			{ totalKeys: 1, memoryUsed: 5, hits: 0, misses: 4, evictions: 2 },
		]);
		expect(figures).toEqual({ total_keys: 3, memory_used: 15, hit_rate: 3 / 8, hits: 3, misses: 5, evictions: 3 });
	});

	it("reports remaining seconds rounded up and never negative", () => {
		expect(ttlRemainingSeconds(NOW + 1500, NOW)).toBe(2);
		expect(ttlRemainingSeconds(NOW + 1, NOW)).toBe(1);
		expect(ttlRemainingSeconds(NOW - 10, NOW)).toBe(0);
	});
});
