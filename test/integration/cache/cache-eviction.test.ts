import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import {
	configure,
	errorCode,
	keysOnOneShard,
	mustPut,
	put,
	read,
	shardStub,
	stats,
	uniqueNamespace,
} from "./cache-helpers";

// With max_bytes 8,192 over 8 shards each shard holds 1,024 bytes: three of these entries, not four.
const VALUE = "v".repeat(290);
const SMALL_CAP = { max_bytes: 8192 };

/** Four keys on one shard, named. */
function fourKeys(prefix: string): [string, string, string, string] {
	const [a, b, c, d] = keysOnOneShard(prefix, 4);
	if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error("too few keys");
	return [a, b, c, d];
}

/** Puts A, reads A three times, then puts B, C and D: the fourth entry forces one eviction. */
async function fillAfterReadingFirst(apiKey: string, ns: string, keys: [string, string, string, string]) {
	const [a, b, c, d] = keys;
	await mustPut(apiKey, ns, a, VALUE);
	for (let i = 0; i < 3; i++) {
		await sleep(3);
		expect((await read(apiKey, ns, a))?.hit).toBe(true);
	}
	for (const key of [b, c, d]) {
		await sleep(3);
		await mustPut(apiKey, ns, key, VALUE);
	}
}

describe("cache eviction under a size cap", () => {
	it("LRU evicts the least recently used entry and counts it", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		expect((await configure(apiKey, ns, { ...SMALL_CAP, eviction: "lru" })).shard_max_bytes).toBe(1024);
		const [a, b, c, d] = fourKeys("lru");
		await mustPut(apiKey, ns, a, VALUE);
		await sleep(3);
		await mustPut(apiKey, ns, b, VALUE);
		await sleep(3);
		await mustPut(apiKey, ns, c, VALUE);
		await sleep(3);
		expect((await read(apiKey, ns, a))?.hit).toBe(true); // a is now more recent than b
		await sleep(3);
		const put4 = await mustPut(apiKey, ns, d, VALUE);
		expect(put4.evicted).toBe(1);
		expect(await read(apiKey, ns, b)).toBeNull();
		for (const key of [a, c, d]) expect((await read(apiKey, ns, key))?.value).toBe(VALUE);
		const figures = await stats(apiKey, ns);
		expect(figures.evictions).toBe(1);
		expect(figures.total_keys).toBe(3);
		expect(figures.memory_used).toBeLessThanOrEqual(1024);
	});

	it("LFU keeps the frequently read key that LRU would evict", async () => {
		const { apiKey } = await createTenant();
		const lfu = uniqueNamespace("lfu");
		const lru = uniqueNamespace("lru");
		await configure(apiKey, lfu, { ...SMALL_CAP, eviction: "lfu" });
		await configure(apiKey, lru, { ...SMALL_CAP, eviction: "lru" });
		const keys = fourKeys("freq");
		const [a, b] = keys;
		await fillAfterReadingFirst(apiKey, lfu, keys);
		await fillAfterReadingFirst(apiKey, lru, keys);
		// LFU: b (never read, oldest among the unread) goes; a (read three times) stays.
		expect((await read(apiKey, lfu, a))?.value).toBe(VALUE);
		expect(await read(apiKey, lfu, b)).toBeNull();
		// LRU: a's last access is the oldest, so it goes despite its hits.
		expect(await read(apiKey, lru, a)).toBeNull();
		expect((await read(apiKey, lru, b))?.value).toBe(VALUE);
		expect((await stats(apiKey, lfu)).evictions).toBe(1);
		expect((await stats(apiKey, lru)).evictions).toBe(1);
	});

	it("evicts at once when the cap shrinks, and refuses an entry larger than a shard's share", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const keys = keysOnOneShard("shrink", 3);
		for (const key of keys) await mustPut(apiKey, ns, key, VALUE);
		const shrunk = await configure(apiKey, ns, { max_bytes: 8 * 700, eviction: "lru" });
		expect(shrunk.evicted).toBe(1);
		expect((await stats(apiKey, ns)).total_keys).toBe(2);

		const big = await put(apiKey, ns, "big", { value: "x".repeat(800), ttl: 60 });
		expect(big.status).toBe(413);
		expect(await errorCode(big)).toBe("value_too_large");
	});

	it("validates namespace settings", async () => {
		const { apiKey } = await createTenant();
		const bad = [{ eviction: "fifo" }, { max_bytes: 100, eviction: "lru" }, { eviction: "lru", extra: 1 }, {}];
		for (const body of bad) {
			const res = await call("PUT", `/api/v1/cache/${uniqueNamespace()}`, { token: apiKey, body });
			expect(res.status, JSON.stringify(body)).toBe(400);
		}
	});

	it("a hit writes no row: reads are kept in memory and written in one flush (before stats, eviction or a change)", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "hot", VALUE);
		const stub = shardStub(tenantId, ns, "hot");
		const stored = () =>
			runInDurableObject(stub, (_obj, state) => {
				const entry = state.storage.sql
					.exec<{ hits: number; last_access: number }>("SELECT hits, last_access FROM entries WHERE key = 'hot'")
					.one();
				const meta = state.storage.sql.exec<{ hits: number; misses: number }>("SELECT hits, misses FROM meta").one();
				return { ...entry, metaHits: meta.hits, metaMisses: meta.misses };
			});
		const before = await stored();
		for (let i = 0; i < 5; i++) expect((await read(apiKey, ns, "hot"))?.hit).toBe(true);
		expect(await read(apiKey, ns, "cold")).toBeNull();
		// Nothing written yet: the five hits and the miss wait in the shard's memory.
		expect(await stored()).toEqual(before);
		// stats flushes first, so its figures are exact.
		const figures = await stats(apiKey, ns);
		expect(figures.hits).toBe(5);
		expect(figures.misses).toBeGreaterThanOrEqual(1);
		const after = await stored();
		expect(after.hits).toBe(before.hits + 5);
		expect(after.last_access).toBeGreaterThan(before.last_access);
		expect(after.metaHits).toBe(before.metaHits + 5);
	});

	it("writes waiting reads by itself within a second", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "k", VALUE);
		expect((await read(apiKey, ns, "k"))?.hit).toBe(true);
		await sleep(1300);
		const hits = await runInDurableObject(
			shardStub(tenantId, ns, "k"),
			(_obj, state) => state.storage.sql.exec<{ hits: number }>("SELECT hits FROM entries WHERE key = 'k'").one().hits,
		);
		expect(hits).toBe(1);
	});
});
