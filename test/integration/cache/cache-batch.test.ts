import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import type { CacheValue } from "./cache-helpers";
import { errorCode, mustPut, read, shardIndexOf, stats, uniqueNamespace } from "./cache-helpers";

function post(apiKey: string, path: string, body: unknown): Promise<Response> {
	return call("POST", path, { token: apiKey, body });
}

describe("cache batch reads, invalidation and stats", () => {
	it("reads many keys across shards in the order asked, misses included", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const keys = Array.from({ length: 12 }, (_, i) => `item-${i}`);
		expect(new Set(keys.map(shardIndexOf)).size).toBeGreaterThan(1);
		for (const [i, key] of keys.entries()) await mustPut(apiKey, ns, key, { i }, 100);
		const asked = ["item-3", "nope", ...keys, "item-3"];
		const res = await post(apiKey, `/api/v1/cache/${ns}/batch/get`, { keys: asked });
		expect(res.status).toBe(200);
		const { results } = await res.json<{ results: Partial<CacheValue>[] }>();
		expect(results.map((r) => r.key)).toEqual(asked);
		expect(results[1]).toEqual({ key: "nope", hit: false });
		expect(results[0]).toEqual({ key: "item-3", hit: true, value: { i: 3 }, ttl_remaining: 100 });
		expect(results.filter((r) => r.hit).length).toBe(14);

		const tooMany = await post(apiKey, `/api/v1/cache/${ns}/batch/get`, {
			keys: Array.from({ length: 101 }, (_, i) => `k${i}`),
		});
		expect(tooMany.status).toBe(400);
		expect(await errorCode(tooMany)).toBe("validation_failed");
		expect((await post(apiKey, `/api/v1/cache/${ns}/batch/get`, { keys: [] })).status).toBe(400);
	});

	it("invalidates a prefix on every shard and leaves other keys", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const doomed = Array.from({ length: 20 }, (_, i) => `user:1:${i}`);
		const kept = Array.from({ length: 5 }, (_, i) => `user:2:${i}`);
		expect(new Set(doomed.map(shardIndexOf)).size).toBeGreaterThan(2);
		for (const key of [...doomed, ...kept]) await mustPut(apiKey, ns, key, key);
		const res = await post(apiKey, `/api/v1/cache/${ns}/invalidate`, { prefix: "user:1:" });
		expect(await res.json()).toEqual({ invalidated: 20 });
		for (const key of doomed) expect(await read(apiKey, ns, key)).toBeNull();
		for (const key of kept) expect((await read(apiKey, ns, key))?.value).toBe(key);
	});

	it("invalidates by tags on every shard", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		for (let i = 0; i < 10; i++) await mustPut(apiKey, ns, `p7-${i}`, i, 60, ["product:7", `page:${i}`]);
		await mustPut(apiKey, ns, "p8", 8, 60, ["product:8"]);
		await mustPut(apiKey, ns, "untagged", 0);
		const res = await post(apiKey, `/api/v1/cache/${ns}/invalidate`, { tags: ["product:7"] });
		expect(await res.json()).toEqual({ invalidated: 10 });
		expect(await read(apiKey, ns, "p7-4")).toBeNull();
		expect((await read(apiKey, ns, "p8"))?.value).toBe(8);

		const again = await post(apiKey, `/api/v1/cache/${ns}/invalidate`, { tags: ["product:8", "nothing"] });
		expect(await again.json()).toEqual({ invalidated: 1 });
		expect((await read(apiKey, ns, "untagged"))?.value).toBe(0);
		const bad = await post(apiKey, `/api/v1/cache/${ns}/invalidate`, { prefix: "a", tags: ["b"] });
		expect(bad.status).toBe(400);
		expect((await post(apiKey, `/api/v1/cache/${ns}/invalidate`, {})).status).toBe(400);
	});

	it("sums hits, misses, keys and bytes over the shards", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		expect(await stats(apiKey, ns)).toMatchObject({ shards: 8, total_keys: 0, hit_rate: 0, hits: 0, misses: 0 });
		await mustPut(apiKey, ns, "a", "xyz");
		await mustPut(apiKey, ns, "bb", [1, 2], 60, ["t"]);
		await read(apiKey, ns, "a");
		await read(apiKey, ns, "a");
		await read(apiKey, ns, "bb");
		await read(apiKey, ns, "missing");
		await post(apiKey, `/api/v1/cache/${ns}/batch/get`, { keys: ["a", "gone"] });
		const figures = await stats(apiKey, ns);
		// Bytes: key + JSON value + tags: ("a" + '"xyz"') + ("bb" + "[1,2]" + "t").
		expect(figures).toEqual({
			namespace: ns,
			shards: 8,
			total_keys: 2,
			memory_used: 1 + 5 + 2 + 5 + 1,
			hit_rate: 4 / 6,
			hits: 4,
			misses: 2,
			evictions: 0,
			write_behind: { pending: 0, failed: 0 },
		});
	});
});
