import { describe, expect, it } from "vitest";
import { SuggestCache } from "../../../src/search/suggest-cache";

const T0 = 1_000_000;

describe("the isolate's suggest cache", () => {
	it("stores a key on its second ask within the window, a hot one at once", () => {
		const cache = new SuggestCache({ admitWindowMs: 1000, ttlMs: 5000, freeShare: 0 });
		expect(cache.put("t\ni", "long\n10", "[1]", cache.ticket(), false, T0)).toBe(false);
		expect(cache.get("t\ni", "long\n10", T0)).toBeUndefined();
		expect(cache.put("t\ni", "long\n10", "[1]", cache.ticket(), false, T0 + 500)).toBe(true);
		expect(cache.get("t\ni", "long\n10", T0 + 600)?.json).toBe("[1]");
		// Asked again only after the window: a first ask again.
		expect(cache.put("t\ni", "other\n10", "[2]", cache.ticket(), false, T0)).toBe(false);
		expect(cache.put("t\ni", "other\n10", "[2]", cache.ticket(), false, T0 + 1500)).toBe(false);
		expect(cache.put("t\ni", "ka\n10", "[3]", cache.ticket(), true, T0)).toBe(true);
		expect(cache.get("t\ni", "ka\n10", T0)?.json).toBe("[3]");
	});

	it("stores every answer at once while under half its bounds", () => {
		const cache = new SuggestCache({ maxEntries: 4 });
		expect(cache.put("t\ni", "a", "[]", cache.ticket(), false)).toBe(true);
		expect(cache.put("t\ni", "b", "[]", cache.ticket(), false)).toBe(true);
		expect(cache.put("t\ni", "c", "[]", cache.ticket(), false)).toBe(false);
		expect(cache.put("t\ni", "c", "[]", cache.ticket(), false)).toBe(true);
	});

	it("serves an answer for at most its TTL", () => {
		const cache = new SuggestCache({ ttlMs: 5000 });
		cache.put("t\ni", "ka\n10", "[3]", cache.ticket(), true, T0);
		expect(cache.get("t\ni", "ka\n10", T0 + 4999)?.json).toBe("[3]");
		expect(cache.get("t\ni", "ka\n10", T0 + 5000)).toBeUndefined();
	});

	it("asks for one refresh of an answer past half its TTL, and the refreshed answer restarts its TTL", () => {
		const cache = new SuggestCache({ ttlMs: 5000 });
		cache.put("t\ni", "ka\n10", "[old]", cache.ticket(), true, T0);
		expect(cache.get("t\ni", "ka\n10", T0 + 2499)).toEqual({ json: "[old]", refresh: false });
		expect(cache.get("t\ni", "ka\n10", T0 + 2500)).toEqual({ json: "[old]", refresh: true });
		expect(cache.get("t\ni", "ka\n10", T0 + 2600)).toEqual({ json: "[old]", refresh: false });
		cache.put("t\ni", "ka\n10", "[new]", cache.ticket(), true, T0 + 2700);
		expect(cache.get("t\ni", "ka\n10", T0 + 5100)).toEqual({ json: "[new]", refresh: false });
	});

	it("drops an index's answers on a write, and never stores one asked before the write", () => {
		const cache = new SuggestCache();
		cache.put("t\ni", "ka\n10", "[old]", cache.ticket(), true);
		cache.put("t\nj", "ka\n10", "[other index]", cache.ticket(), true);
		const during = cache.ticket(); // a shard call under way when the write lands
		cache.written("t\ni");
		expect(cache.get("t\ni", "ka\n10")).toBeUndefined();
		expect(cache.get("t\nj", "ka\n10")?.json).toBe("[other index]");
		expect(cache.put("t\ni", "ka\n10", "[old]", during, true)).toBe(false);
		expect(cache.get("t\ni", "ka\n10")).toBeUndefined();
		expect(cache.put("t\ni", "ka\n10", "[new]", cache.ticket(), true)).toBe(true);
		expect(cache.get("t\ni", "ka\n10")?.json).toBe("[new]");
	});

	it("keys answers by scope: the same key in another tenant's scope is a miss", () => {
		const cache = new SuggestCache();
		cache.put("tenant-a\ncities", "sa\n10", "[a]", cache.ticket(), true);
		expect(cache.get("tenant-b\ncities", "sa\n10")).toBeUndefined();
		cache.written("tenant-b\ncities");
		expect(cache.get("tenant-a\ncities", "sa\n10")?.json).toBe("[a]");
	});

	it("holds at most maxEntries answers and maxChars characters, oldest out first", () => {
		const cache = new SuggestCache({ maxEntries: 3, maxChars: 1000 });
		for (let i = 0; i < 5; i++) cache.put("t\ni", `k${i}`, `[${i}]`, cache.ticket(), true);
		expect(cache.size.entries).toBe(3);
		expect(cache.get("t\ni", "k0")).toBeUndefined();
		expect(cache.get("t\ni", "k4")?.json).toBe("[4]");
		const byChars = new SuggestCache({ maxEntries: 100, maxChars: 1000 });
		for (let i = 0; i < 5; i++) byChars.put("t\ni", `k${i}`, "x".repeat(300), byChars.ticket(), true);
		expect(byChars.size).toEqual({ entries: 3, chars: 900 });
		expect(byChars.put("t\ni", "huge", "x".repeat(1001), byChars.ticket(), true)).toBe(false);
		expect(byChars.get("t\ni", "huge")).toBeUndefined();
	});

	it("after forgetting the oldest written indexes, still treats their older answers as stale", () => {
		const cache = new SuggestCache();
		cache.put("t\nfirst", "ka\n10", "[old]", cache.ticket(), true);
		cache.written("t\nfirst");
		for (let i = 0; i < 10_001; i++) cache.written(`t\nindex-${i}`);
		expect(cache.get("t\nfirst", "ka\n10")).toBeUndefined();
	});
});
