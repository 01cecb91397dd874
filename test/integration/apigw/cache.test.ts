import { afterEach, describe, expect, it, vi } from "vitest";
import { createTenant } from "../helpers";
import { A, gw, interceptUpstreams, mustPutRoute, ok, routeBody } from "./apigw-helpers";

afterEach(() => vi.restoreAllMocks());

async function cached(tenantId: string, path: string, headers: Record<string, string> = {}) {
	const res = await gw(tenantId, path, { headers });
	return { status: res.status, cache: res.headers.get("Floodgate-Cache"), body: await res.text(), res };
}

async function cachedRoute(upstream: (req: Request) => Response, extra: Record<string, unknown> = {}) {
	const { apiKey, tenantId } = await createTenant();
	await mustPutRoute(apiKey, "c", routeBody("/", [A], { cache_ttl: 60, ...extra }));
	let n = 0;
	const seen = interceptUpstreams({ [A]: (req) => (n++, upstream(req)) });
	return { apiKey, tenantId, seen, calls: () => n };
}

describe("gateway response cache", () => {
	it("answers MISS, then HIT from the cache without calling the upstream, keeping its headers", async () => {
		const { tenantId, calls } = await cachedRoute(() =>
			ok("fresh", { "Cache-Control": "public, max-age=30", "X-Up": "1" }),
		);
		const first = await cached(tenantId, "/item?id=1");
		expect([first.status, first.cache, first.body]).toEqual([200, "MISS", "fresh"]);
		const second = await cached(tenantId, "/item?id=1");
		expect([second.status, second.cache, second.body]).toEqual([200, "HIT", "fresh"]);
		expect(second.res.headers.get("Cache-Control")).toBe("public, max-age=30");
		expect(second.res.headers.get("X-Up")).toBe("1");
		expect(second.res.headers.get("Age")).not.toBeNull();
		// Another query string is another entry.
		expect((await cached(tenantId, "/item?id=2")).cache).toBe("MISS");
		expect(calls()).toBe(2);
	});

	it("keeps one entry per value of the headers the answer varies on", async () => {
		const { tenantId, calls } = await cachedRoute((req) =>
			ok(`lang:${req.headers.get("Accept-Language") ?? "none"}`, { Vary: "Accept-Language" }),
		);
		expect((await cached(tenantId, "/p", { "Accept-Language": "fr" })).cache).toBe("MISS");
		expect((await cached(tenantId, "/p", { "Accept-Language": "de" })).body).toBe("lang:de");
		const fr = await cached(tenantId, "/p", { "Accept-Language": "fr" });
		expect([fr.cache, fr.body]).toEqual(["HIT", "lang:fr"]);
		expect(fr.res.headers.get("Vary")).toBe("Accept-Language");
		const de = await cached(tenantId, "/p", { "Accept-Language": "de" });
		expect([de.cache, de.body]).toEqual(["HIT", "lang:de"]);
		expect(calls()).toBe(2);
	});

	it("never stores no-store, private or Set-Cookie answers", async () => {
		const answers: Record<string, string>[] = [
			{ "Cache-Control": "no-store" },
			{ "Cache-Control": "private, max-age=60" },
			{ "Set-Cookie": "s=1" },
		];
		for (const headers of answers) {
			const { tenantId, calls } = await cachedRoute(() => ok("x", headers));
			expect((await cached(tenantId, "/n")).cache).toBe("MISS");
			expect((await cached(tenantId, "/n")).cache).toBe("MISS");
			expect(calls()).toBe(2);
		}
	});

	it("bypasses the cache for POST, a no-cache request, a caller's credentials and a route without cache_ttl", async () => {
		const { tenantId, calls } = await cachedRoute(() => ok("x"));
		expect((await cached(tenantId, "/b")).cache).toBe("MISS");
		expect((await cached(tenantId, "/b", { "Cache-Control": "no-cache" })).cache).toBe("BYPASS");
		expect((await cached(tenantId, "/b", { Authorization: "Bearer mine" })).cache).toBe("BYPASS");
		const post = await gw(tenantId, "/b", { method: "POST", body: "{}" });
		expect(post.headers.get("Floodgate-Cache")).toBe("BYPASS");
		expect(calls()).toBe(4);
		vi.restoreAllMocks();

		const plain = await createTenant();
		await mustPutRoute(plain.apiKey, "nc", routeBody("/", [A]));
		interceptUpstreams({ [A]: () => ok("x", { "Cache-Control": "max-age=60" }) });
		expect((await cached(plain.tenantId, "/b")).cache).toBe("BYPASS");
		expect((await cached(plain.tenantId, "/b")).cache).toBe("BYPASS");
	});

	it("keys entries per tenant: the same path of two tenants never shares an answer", async () => {
		const one = await createTenant("one");
		const two = await createTenant("two");
		await mustPutRoute(one.apiKey, "c", routeBody("/", [A], { cache_ttl: 60 }));
		await mustPutRoute(two.apiKey, "c", routeBody("/", [A], { cache_ttl: 60 }));
		interceptUpstreams({ [A]: (req) => ok(req.headers.get("X-Tenant") ?? "?") });
		await mustPutRoute(one.apiKey, "c", routeBody("/", [A], { cache_ttl: 60, headers: { "X-Tenant": "one" } }));
		await mustPutRoute(two.apiKey, "c", routeBody("/", [A], { cache_ttl: 60, headers: { "X-Tenant": "two" } }));
		expect((await cached(one.tenantId, "/same")).body).toBe("one");
		const other = await cached(two.tenantId, "/same");
		expect([other.cache, other.body]).toEqual(["MISS", "two"]);
	});

	it("stops serving old answers once the route changes", async () => {
		const { apiKey, tenantId, calls } = await cachedRoute(() => ok("v"));
		await cached(tenantId, "/r");
		expect((await cached(tenantId, "/r")).cache).toBe("HIT");
		await mustPutRoute(apiKey, "c", routeBody("/", [A], { cache_ttl: 120 }));
		expect((await cached(tenantId, "/r")).cache).toBe("MISS");
		expect(calls()).toBe(2);
	});
});
