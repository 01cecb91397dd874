import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import type { CacheValue } from "./cache-helpers";
import { configure, errorCode, get, interceptOrigin, mustPut, read, shardStub, uniqueNamespace } from "./cache-helpers";

afterEach(() => vi.restoreAllMocks());

const loader = (path: string, ttl = 60) => `?loader=${encodeURIComponent(`https://origin.example${path}`)}&ttl=${ttl}`;

describe("read-through and L1", () => {
	it("loads a miss from the loader once for many concurrent GETs, then serves hits", async () => {
		const seen = interceptOrigin(async () => {
			await sleep(200);
			return Response.json({ price: 42 });
		});
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const answers = await Promise.all(Array.from({ length: 6 }, () => get(apiKey, ns, "price:1", loader("/p/1", 30))));
		const bodies = await Promise.all(answers.map((res) => res.json<CacheValue>()));
		expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200]);
		expect(seen.map((s) => s.url)).toEqual(["https://origin.example/p/1"]);
		for (const body of bodies) expect(body.value).toEqual({ price: 42 });
		expect(bodies.filter((b) => b.loaded === true && !b.hit).length).toBeGreaterThanOrEqual(1);
		expect(await read(apiKey, ns, "price:1", "?l1=0")).toMatchObject({ hit: true, ttl_remaining: 30, source: "shard" });
		// Six reads made the key hot in this isolate: the next plain GET is an L1 hit.
		expect(await read(apiKey, ns, "price:1")).toMatchObject({ hit: true, ttl_remaining: 30, source: "l1" });
		expect(seen.length).toBe(1);
	});

	it("lets a PUT or DELETE made during a load win over the loader's older answer", async () => {
		interceptOrigin(async () => {
			await sleep(300);
			return Response.json("from-origin");
		});
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const loading = get(apiKey, ns, "raced", loader("/raced"));
		await sleep(100);
		await mustPut(apiKey, ns, "raced", "written-meanwhile");
		expect(await (await loading).json()).toMatchObject({ value: "written-meanwhile", loaded: true });
		expect((await read(apiKey, ns, "raced"))?.value).toBe("written-meanwhile");

		const second = get(apiKey, ns, "deleted", loader("/deleted"));
		await sleep(100);
		await call("DELETE", `/api/v1/cache/${ns}/deleted`, { token: apiKey });
		expect(await (await second).json()).toMatchObject({ value: "from-origin", loaded: true, ttl_remaining: 0 });
		expect(await read(apiKey, ns, "deleted")).toBeNull();
	});

	// Loopback http is allowed here: the tests run with the local-development flag, as `npm start` does.
	it("refuses a private, local-name or plain-http loader with 400 destination_not_allowed, fetching nothing", async () => {
		const seen = interceptOrigin(async () => Response.json(1));
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		for (const url of [
			"https://10.0.0.1/x",
			"http://10.0.0.1/x",
			"https://printer.local/x",
			"http://origin.example/",
		]) {
			const res = await get(apiKey, ns, "k", `?loader=${encodeURIComponent(url)}`);
			expect(res.status, url).toBe(400);
			expect(await errorCode(res)).toBe("destination_not_allowed");
		}
		expect(seen.length).toBe(0);
	});

	it("refuses a loader that redirects to a private address", async () => {
		interceptOrigin(async () => new Response(null, { status: 302, headers: { Location: "https://192.168.1.1/" } }));
		const { apiKey } = await createTenant();
		const res = await get(apiKey, uniqueNamespace(), "k", loader("/redirect"));
		expect(res.status).toBe(400);
		expect(await errorCode(res)).toBe("destination_not_allowed");
	});

	it("answers 503 loader_failed for an error status and 422 loader_invalid for a non-JSON answer, caching neither", async () => {
		interceptOrigin(async (req) =>
			req.url.endsWith("/down") ? new Response("nope", { status: 500 }) : new Response("<html>", { status: 200 }),
		);
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		const down = await get(apiKey, ns, "a", loader("/down"));
		expect(down.status).toBe(503);
		expect(await errorCode(down)).toBe("loader_failed");
		const html = await get(apiKey, ns, "b", loader("/html"));
		expect(html.status).toBe(422);
		expect(await errorCode(html)).toBe("loader_invalid");
		expect(await read(apiKey, ns, "a")).toBeNull();
		expect(await read(apiKey, ns, "b")).toBeNull();
	});

	it("serves from this isolate's L1 for at most 2 s after the shard's value changed elsewhere", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "hot", "v1");
		expect((await read(apiKey, ns, "hot", "?l1=1"))?.source).toBe("shard");
		// Changed behind this isolate's back (as another isolate's write would be).
		await runInDurableObject(shardStub(tenantId, ns, "hot"), (_obj, state) => {
			state.storage.sql.exec("UPDATE entries SET value = ? WHERE key = ?", JSON.stringify("v2"), "hot");
		});
		expect(await read(apiKey, ns, "hot")).toMatchObject({ value: "v1", source: "l1" });
		expect(await read(apiKey, ns, "hot", "?l1=0")).toMatchObject({ value: "v2", source: "shard" });
		await sleep(2100);
		expect(await read(apiKey, ns, "hot")).toMatchObject({ value: "v2", source: "shard" });
	});

	it("keeps a hot key in L1 from its second read, and drops it on a write or delete through this isolate", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		await mustPut(apiKey, ns, "k", 1);
		expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		expect(await read(apiKey, ns, "k")).toMatchObject({ value: 1, source: "l1", ttl_remaining: 60 });
		await mustPut(apiKey, ns, "k", 2, 30);
		expect(await read(apiKey, ns, "k")).toMatchObject({ value: 2, source: "shard", ttl_remaining: 30 });
		// Still hot: taken back at once, with the new entry's ttl.
		expect(await read(apiKey, ns, "k")).toMatchObject({ value: 2, source: "l1", ttl_remaining: 30 });
		await call("DELETE", `/api/v1/cache/${ns}/k`, { token: apiKey });
		expect(await read(apiKey, ns, "k")).toBeNull();
	});

	it("never serves a plain GET from L1 in a namespace with l1 off (only ?l1=1 does)", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace();
		await configure(apiKey, ns, { eviction: "lru", l1: false });
		await mustPut(apiKey, ns, "k", 1);
		for (let i = 0; i < 3; i++) expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "k", "?l1=1"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "k", "?l1=1"))?.source).toBe("l1");
		expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		// Turning it on through this isolate takes effect here at once.
		await configure(apiKey, ns, { eviction: "lru", l1: true });
		expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "k"))?.source).toBe("shard");
		expect((await read(apiKey, ns, "k"))?.source).toBe("l1");
	});
});
