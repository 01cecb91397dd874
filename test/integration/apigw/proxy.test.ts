import { afterEach, describe, expect, it, vi } from "vitest";
import { exports } from "cloudflare:workers";
import { BASE, createTenant } from "../helpers";
import { A, answers, B, errorCode, gw, interceptUpstreams, mustPutRoute, ok, routeBody } from "./apigw-helpers";

afterEach(() => vi.restoreAllMocks());

describe("gateway traffic", () => {
	it("sends each request to the route with the longest matching prefix", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "all", routeBody("/", [A]));
		await mustPutRoute(apiKey, "v2", routeBody("/api/v2", [B], { strip_prefix: true }));
		const seen = interceptUpstreams({ [A]: () => ok("a"), [B]: () => ok("b") });
		expect(await (await gw(tenantId, "/api/v2/users?page=2")).text()).toBe("b");
		expect(await (await gw(tenantId, "/api/v2x")).text()).toBe("a");
		expect(seen.map((s) => s.url)).toEqual([`${B}/users?page=2`, `${A}/api/v2x`]);
	});

	it("answers 404 for a path no route covers and for an unknown tenant", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "api", routeBody("/api", [A]));
		expect((await gw(tenantId, "/web")).status).toBe(404);
		expect((await gw("ten_nobody", "/api")).status).toBe(404);
	});

	it("passes the body and the upstream's status through, strips hop-by-hop headers and forwards ids", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "api", routeBody("/api", [A], { headers: { "X-Route": "api" } }));
		const seen = interceptUpstreams({
			[A]: async (req) =>
				new Response(`echo:${await req.text()}`, {
					status: 201,
					headers: { "X-Up": "1", Connection: "close", "Keep-Alive": "timeout=5" },
				}),
		});
		const res = await gw(tenantId, "/api/things", {
			method: "POST",
			body: "hello",
			headers: {
				"Content-Type": "text/plain",
				"X-Request-Id": "req-123",
				"CF-Connecting-IP": "203.0.113.9",
				"X-Forwarded-For": "198.51.100.1",
				Connection: "keep-alive",
				"Proxy-Authorization": "secret",
				"X-Route": "caller",
			},
		});
		expect(res.status).toBe(201);
		expect(await res.text()).toBe("echo:hello");
		expect(res.headers.get("X-Up")).toBe("1");
		expect(res.headers.get("Keep-Alive")).toBeNull();
		expect(res.headers.get("Floodgate-Cache")).toBe("BYPASS");
		const sent = seen[0];
		expect(sent?.method).toBe("POST");
		expect(sent?.headers.get("X-Request-Id")).toBe("req-123");
		expect(sent?.headers.get("X-Forwarded-For")).toBe("198.51.100.1, 203.0.113.9");
		expect(sent?.headers.get("X-Forwarded-Proto")).toBe("http");
		expect(sent?.headers.get("Proxy-Authorization")).toBeNull();
		expect(sent?.headers.get("X-Route")).toBe("api");
		expect(sent?.headers.get("Content-Type")).toBe("text/plain");
	});

	it("passes an upstream's redirect on instead of following it", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "r", routeBody("/", [A]));
		const seen = interceptUpstreams({
			[A]: () => new Response(null, { status: 302, headers: { Location: "https://10.0.0.1/" } }),
		});
		// redirect: "manual", or the test's own fetch would follow the Location the gateway passes on.
		const res = await exports.default.fetch(new Request(`${BASE}/gw/${tenantId}/go`, { redirect: "manual" }));
		expect(res.status).toBe(302);
		expect(res.headers.get("Location")).toBe("https://10.0.0.1/");
		expect(seen).toHaveLength(1);
	});

	it("refuses methods the route does not list with 405 and Allow", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "ro", routeBody("/", [A], { methods: ["GET", "HEAD"] }));
		const seen = interceptUpstreams({ [A]: () => ok() });
		const res = await gw(tenantId, "/x", { method: "DELETE" });
		expect(res.status).toBe(405);
		expect(res.headers.get("Allow")).toBe("GET, HEAD");
		expect(seen).toEqual([]);
	});

	it("spreads requests over upstreams by weight (3:1)", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "w", {
			...routeBody("/", []),
			upstreams: [
				{ url: A, weight: 3 },
				{ url: B, weight: 1 },
			],
		});
		interceptUpstreams({ [A]: () => ok("a"), [B]: () => ok("b") });
		const got = await answers(tenantId, "/x", 8);
		expect(got.filter((g) => g === "200:a")).toHaveLength(6);
		expect(got.filter((g) => g === "200:b")).toHaveLength(2);
	});
});

describe("gateway auth modes", () => {
	it("api_key: needs the tenant's own key, and never passes it upstream", async () => {
		const owner = await createTenant("owner");
		const other = await createTenant("other");
		await mustPutRoute(owner.apiKey, "private", routeBody("/", [A], { auth: "api_key" }));
		const seen = interceptUpstreams({ [A]: () => ok("secret") });
		expect((await gw(owner.tenantId, "/x")).status).toBe(401);
		const foreign = await gw(owner.tenantId, "/x", { token: other.apiKey });
		expect(foreign.status).toBe(404);
		expect(seen).toEqual([]);
		const res = await gw(owner.tenantId, "/x", { token: owner.apiKey });
		expect(res.status).toBe(200);
		expect(seen[0]?.headers.get("Authorization")).toBeNull();
	});

	it("none: public, the caller's own Authorization goes to the upstream", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "public", routeBody("/", [A]));
		const seen = interceptUpstreams({ [A]: () => ok() });
		expect((await gw(tenantId, "/x", { headers: { Authorization: "Bearer upstream-token" } })).status).toBe(200);
		expect(seen[0]?.headers.get("Authorization")).toBe("Bearer upstream-token");
	});
});

describe("gateway limits", () => {
	it("applies a route's own rate limit with 429 and Retry-After", async () => {
		const { apiKey, tenantId } = await createTenant();
		const rule = { name: "per-route", scope: "route", algorithm: "fixed_window", limit: 2, window_seconds: 60 };
		await mustPutRoute(apiKey, "limited", routeBody("/", [A], { rate_limits: [rule] }));
		const seen = interceptUpstreams({ [A]: () => ok() });
		expect((await gw(tenantId, "/x")).status).toBe(200);
		expect((await gw(tenantId, "/x")).status).toBe(200);
		const third = await gw(tenantId, "/x");
		expect(third.status).toBe(429);
		expect(third.headers.get("Retry-After")).not.toBeNull();
		expect(await errorCode(third)).toBe("rate_limited");
		expect(seen).toHaveLength(2);
	});

	it("refuses request bodies over 1 MiB with 413 before calling the upstream", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "up", routeBody("/", [A]));
		const seen = interceptUpstreams({ [A]: () => ok() });
		const res = await gw(tenantId, "/x", { method: "PUT", body: "x".repeat(1_048_577) });
		expect(res.status).toBe(413);
		expect(seen).toEqual([]);
	});

	it("answers 502 when the upstream's answer is over the 8 MiB cap", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "big", routeBody("/", [A]));
		interceptUpstreams({ [A]: () => ok("y".repeat(8_388_609)) });
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(502);
		expect(await errorCode(res)).toBe("upstream_response_too_large");
	});
});
