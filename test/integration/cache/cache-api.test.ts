import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import type { ErrorJson } from "./cache-helpers";
import { errorCode, get, mustPut, put, read, shardStub, uniqueNamespace } from "./cache-helpers";

describe("cache API", () => {
	it("stores a JSON value, reads it back with its ttl, deletes it, then answers 404 cache_miss", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const value = { name: "Ada", tags: ["x", 1, null], nested: { ok: true } };
		const stored = await mustPut(apiKey, ns, "user:1", value, 120);
		expect(stored.evicted).toBe(0);
		const got = await read(apiKey, ns, "user:1");
		expect(got).toEqual({ key: "user:1", value, hit: true, ttl_remaining: 120, source: "shard" });

		const del = await call("DELETE", `/api/v1/cache/${ns}/user:1`, { token: apiKey });
		expect(await del.json()).toEqual({ key: "user:1", deleted: true });
		const miss = await get(apiKey, ns, "user:1");
		expect(miss.status).toBe(404);
		const body = await miss.json<ErrorJson>();
		expect(body.error.code).toBe("cache_miss");
		expect(body.error.details).toEqual({ key: "user:1", hit: false });
		const again = await call("DELETE", `/api/v1/cache/${ns}/user:1`, { token: apiKey });
		expect(await again.json()).toEqual({ key: "user:1", deleted: false });
	});

	it("replaces a value on a second PUT", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "k", "first");
		await mustPut(apiKey, ns, "k", ["second"]);
		expect((await read(apiKey, ns, "k"))?.value).toEqual(["second"]);
		// A key with a slash travels as %2F and is one key.
		await mustPut(apiKey, ns, "a/b", "slash");
		expect(await read(apiKey, ns, "a/b")).toMatchObject({ key: "a/b", value: "slash" });
		expect(await read(apiKey, ns, "a")).toBeNull();
	});

	it("answers 400 for a bad namespace, key, ttl, tags or body", async () => {
		const { apiKey } = await createTenant();
		const cases: [string, string, Record<string, unknown>][] = [
			["Upper", "k", { value: 1, ttl: 10 }],
			["n".repeat(65), "k", { value: 1, ttl: 10 }],
			["ok", "k".repeat(513), { value: 1, ttl: 10 }],
			["ok", "é".repeat(257), { value: 1, ttl: 10 }],
			["ok", "stats", { value: 1, ttl: 10 }],
			["ok", "k", { value: 1, ttl: 0 }],
			["ok", "k", { value: 1, ttl: 2_592_001 }],
			["ok", "k", { value: 1, ttl: 1.5 }],
			["ok", "k", { ttl: 10 }],
			["ok", "k", { value: 1, ttl: 10, tags: ["bad tag"] }],
			["ok", "k", { value: 1, ttl: 10, tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }],
			["ok", "k", { value: 1, ttl: 10, extra: true }],
		];
		for (const [ns, key, body] of cases) {
			const res = await put(apiKey, ns, key, body);
			expect(res.status, `${ns} ${key.slice(0, 10)} ${JSON.stringify(body).slice(0, 60)}`).toBe(400);
			expect(await errorCode(res)).toBe("validation_failed");
		}
		expect((await put(apiKey, "ok", "k".repeat(512), { value: 1, ttl: 2_592_000 })).status).toBe(200);
		expect((await get(apiKey, "ok", "k", "?ttl=abc&loader=https://origin.example/")).status).toBe(400);
	});

	it("refuses a value over 128 KB of JSON with 413 value_too_large and stores nothing", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const res = await put(apiKey, ns, "big", { value: "x".repeat(128 * 1024), ttl: 60 });
		expect(res.status).toBe(413);
		const body = await res.json<ErrorJson>();
		expect(body.error.code).toBe("value_too_large");
		expect(body.error.details).toEqual({ limit_bytes: 131_072 });
		expect(await read(apiKey, ns, "big")).toBeNull();
		// Just under the limit (the JSON text is the string plus its two quotes) is fine.
		expect((await put(apiKey, ns, "big", { value: "x".repeat(128 * 1024 - 2), ttl: 60 })).status).toBe(200);
	});

	it("expires an entry after its ttl (lazily on read) and its alarm removes expired rows unread", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "short", 1, 1);
		const unread = await mustPut(apiKey, ns, "never-read", 2, 1);
		expect((await read(apiKey, ns, "short"))?.ttl_remaining).toBe(1);

		const stub = shardStub(tenantId, ns, "never-read");
		const look = () =>
			runInDurableObject(stub, async (_obj, state) => ({
				rows: state.storage.sql.exec("SELECT key FROM entries WHERE key = ?", "never-read").toArray().length,
				alarm: await state.storage.getAlarm(),
			}));
		const before = await look();
		expect(before.rows).toBe(1);
		expect(before.alarm).not.toBeNull();
		expect(before.alarm).toBeLessThanOrEqual(unread.expires_at);

		await sleep(1100);
		expect(await read(apiKey, ns, "short")).toBeNull();
		// "never-read" is not read again: only the shard's alarm can remove it.
		let after = await look();
		for (let i = 0; i < 30 && after.rows > 0; i++) {
			await sleep(100);
			after = await look();
		}
		expect(after.rows).toBe(0);
	});

	it("keeps two tenants' entries apart under the same namespace and key", async () => {
		const a = await createTenant("tenant-a");
		const b = await createTenant("tenant-b");
		const ns = uniqueNamespace("shared");
		await mustPut(a.apiKey, ns, "config", { owner: "a" });
		expect(await read(b.apiKey, ns, "config")).toBeNull();
		await mustPut(b.apiKey, ns, "config", { owner: "b" });
		expect((await read(a.apiKey, ns, "config"))?.value).toEqual({ owner: "a" });
		expect((await read(b.apiKey, ns, "config"))?.value).toEqual({ owner: "b" });

		await call("DELETE", `/api/v1/cache/${ns}/config`, { token: b.apiKey });
		expect((await read(a.apiKey, ns, "config"))?.value).toEqual({ owner: "a" });
		const res = await call("POST", `/api/v1/cache/${ns}/invalidate`, { token: b.apiKey, body: { prefix: "con" } });
		expect(await res.json()).toEqual({ invalidated: 0 });
		expect((await read(a.apiKey, ns, "config"))?.value).toEqual({ owner: "a" });
	});

	it("requires an API key", async () => {
		const res = await call("GET", "/api/v1/cache/ns/k");
		expect(res.status).toBe(401);
	});
});
