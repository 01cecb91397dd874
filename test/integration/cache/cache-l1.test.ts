import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { L1_TTL_MS } from "../../../src/cache/l1";
import { call, createTenant, sleep } from "../helpers";
import { configure, keysOnOneShard, mustPut, read, shardStub, stats, uniqueNamespace } from "./cache-helpers";

/** Reads `key` until this isolate serves it from L1 (a hot key enters on its second shard read). */
async function makeHot(apiKey: string, ns: string, key: string): Promise<void> {
	for (let i = 0; i < 3; i++) if ((await read(apiKey, ns, key))?.source === "l1") return;
	throw new Error(`${key} never reached L1`);
}

describe("the per-isolate L1", () => {
	it("counts L1 hits in the namespace's stats (hits, hit_rate) next to the shard's", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "hot", { n: 1 });
		const sources: string[] = [];
		for (let i = 0; i < 6; i++) sources.push((await read(apiKey, ns, "hot"))?.source ?? "miss");
		expect(sources).toEqual(["shard", "shard", "l1", "l1", "l1", "l1"]);
		expect(await read(apiKey, ns, "absent")).toBeNull();
		const figures = await stats(apiKey, ns);
		expect(figures.hits).toBe(6);
		expect(figures.misses).toBe(1);
		expect(figures.hit_rate).toBeCloseTo(6 / 7, 5);
		// Counted once: asking again adds nothing.
		expect((await stats(apiKey, ns)).hits).toBe(6);
	});

	it("sends L1 hits to the shard in the background, recency and per-entry hits included", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "k", 1);
		await makeHot(apiKey, ns, "k");
		const l1ReadAt = Date.now();
		expect((await read(apiKey, ns, "k"))?.source).toBe("l1");
		const row = () =>
			runInDurableObject(shardStub(tenantId, ns, "k"), (_obj, state) => ({
				meta: state.storage.sql.exec<{ hits: number }>("SELECT hits FROM meta").one().hits,
				entry: state.storage.sql
					.exec<{ hits: number; last_access: number }>("SELECT hits, last_access FROM entries WHERE key = 'k'")
					.one(),
			}));
		// No stats call: the isolate's flush (1 s) and then the shard's own (1 s) write them.
		let seen = await row();
		for (let i = 0; i < 40 && seen.meta < 4; i++) {
			await sleep(100);
			seen = await row();
		}
		expect(seen.meta).toBe(4);
		expect(seen.entry.hits).toBe(4);
		expect(seen.entry.last_access).toBeGreaterThanOrEqual(l1ReadAt);
	});

	it("keeps a key read without pause in L1 past its 2 s, yet serves another isolate's change within 2 s", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "k", 1);
		await makeHot(apiKey, ns, "k");
		const sources: string[] = [];
		for (const start = Date.now(); Date.now() - start < L1_TTL_MS * 1.5; await sleep(50))
			sources.push((await read(apiKey, ns, "k"))?.source ?? "miss");
		// Renewed in the background: no read after the first went to the shard.
		expect(sources.length).toBeGreaterThan(10);
		expect(new Set(sources)).toEqual(new Set(["l1"]));

		// Written straight to the shard, as another isolate's PUT is: this isolate's L1 is not told.
		const shard = shardStub(tenantId, ns, "k");
		const writtenAt = Date.now();
		await shard.put({ key: "k", value: "2", ttlSeconds: 60, tags: [] });
		let seen = (await read(apiKey, ns, "k"))?.value;
		while (seen !== 2 && Date.now() - writtenAt < L1_TTL_MS * 2) {
			await sleep(25);
			seen = (await read(apiKey, ns, "k"))?.value;
		}
		expect(seen).toBe(2);
		expect(Date.now() - writtenAt).toBeLessThanOrEqual(L1_TTL_MS + 250);
		for (let i = 0; i < 5; i++) expect((await read(apiKey, ns, "k"))?.value).toBe(2);

		// Deleted there too: gone here within 2 s (renewal learns it, or the copy expires).
		const deletedAt = Date.now();
		await shard.delete("k");
		while ((await read(apiKey, ns, "k")) !== null && Date.now() - deletedAt < L1_TTL_MS * 2) await sleep(25);
		expect(await read(apiKey, ns, "k")).toBeNull();
		expect(Date.now() - deletedAt).toBeLessThanOrEqual(L1_TTL_MS + 250);
	});

	it("after a quiet spell, one miss of a hot key reads its shard's other hot keys back into L1 at once", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		const [a, b, c] = keysOnOneShard("warm", 3) as [string, string, string];
		for (const key of [a, b, c]) await mustPut(apiKey, ns, key, `${key}-1`);
		for (const key of [a, b, c]) await makeHot(apiKey, ns, key);
		// Read on until each has been renewed once (its last second of L1 life reached): the hot set.
		for (const start = Date.now(); Date.now() - start < L1_TTL_MS * 0.75; await sleep(50))
			for (const key of [a, b, c]) expect((await read(apiKey, ns, key))?.source).toBe("l1");
		await sleep(L1_TTL_MS + 300);
		// Changed behind this isolate's back while nobody read: what comes back is the shard's value now.
		await shardStub(tenantId, ns, b).put({ key: b, value: '"b-2"', ttlSeconds: 60, tags: [] });
		expect((await read(apiKey, ns, a))?.source).toBe("shard");
		await sleep(200);
		expect(await read(apiKey, ns, b)).toMatchObject({ source: "l1", value: "b-2" });
		expect(await read(apiKey, ns, c)).toMatchObject({ source: "l1", value: `${c}-1` });
		// a itself was taken back on that one read.
		expect((await read(apiKey, ns, a))?.source).toBe("l1");
	});

	it("answers a batch GET's hot keys from L1 and asks the shards only for the rest, hits counted once", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		for (const key of ["a", "b", "c"]) await mustPut(apiKey, ns, key, `${key}1`);
		await makeHot(apiKey, ns, "a");
		await makeHot(apiKey, ns, "b");
		// Changed in the shard behind this isolate's back: an answer of "a1" can only come from L1.
		await shardStub(tenantId, ns, "a").put({ key: "a", value: '"a2"', ttlSeconds: 60, tags: [] });
		const res = await call("POST", `/api/v1/cache/${ns}/batch/get`, {
			token: apiKey,
			body: { keys: ["a", "c", "a", "missing", "b"] },
		});
		expect(res.status).toBe(200);
		const { results } = await res.json<{ results: { key: string; hit: boolean; value?: unknown }[] }>();
		expect(results.map((r) => [r.key, r.value ?? null])).toEqual([
			["a", "a1"],
			["c", "c1"],
			["a", "a1"],
			["missing", null],
			["b", "b1"],
		]);
		// 3 + 3 reads making a and b hot, then a and b from L1, c from its shard (each key once); one miss.
		const figures = await stats(apiKey, ns);
		expect(figures.hits).toBe(9);
		expect(figures.misses).toBe(1);
		// The batch's shard read of c counts toward its admission like a GET's.
		expect((await read(apiKey, ns, "c"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "c"))?.source).toBe("l1");
	});

	it("drops L1 entries on invalidation by prefix or tag and on an eviction caused through this isolate", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "p:1", "a", 60, ["t1"]);
		await mustPut(apiKey, ns, "q:1", "b", 60, ["t2"]);
		await makeHot(apiKey, ns, "p:1");
		await makeHot(apiKey, ns, "q:1");
		const byPrefix = await call("POST", `/api/v1/cache/${ns}/invalidate`, { token: apiKey, body: { prefix: "p:" } });
		expect(await byPrefix.json()).toEqual({ invalidated: 1 });
		expect(await read(apiKey, ns, "p:1")).toBeNull();
		expect((await read(apiKey, ns, "q:1"))?.source).toBe("shard");
		await makeHot(apiKey, ns, "q:1");
		const byTag = await call("POST", `/api/v1/cache/${ns}/invalidate`, { token: apiKey, body: { tags: ["t2"] } });
		expect(await byTag.json()).toEqual({ invalidated: 1 });
		expect(await read(apiKey, ns, "q:1")).toBeNull();

		// Three 290-byte entries fit a 1,024-byte shard; the fourth PUT evicts the oldest, hot in L1.
		const small = uniqueNamespace();
		await configure(apiKey, small, { max_bytes: 8192, eviction: "lru" });
		const [a, b, c, d] = keysOnOneShard("ev", 4) as [string, string, string, string];
		for (const key of [a, b, c]) await mustPut(apiKey, small, key, "v".repeat(290));
		await makeHot(apiKey, small, a);
		await makeHot(apiKey, small, b);
		await makeHot(apiKey, small, c);
		const put4 = await mustPut(apiKey, small, d, "v".repeat(290));
		expect(put4.evicted).toBe(1);
		const left = await Promise.all([a, b, c].map((key) => read(apiKey, small, key)));
		expect(left.filter((x) => x === null).length).toBe(1);
		for (const entry of left) if (entry) expect(entry.source).toBe("shard");
	});
});
