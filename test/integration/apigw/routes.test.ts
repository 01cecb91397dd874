import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createTenant, json } from "../helpers";
import { A, B, errorCode, gw, interceptUpstreams, mustPutRoute, ok, putRoute, routeBody } from "./apigw-helpers";

afterEach(() => vi.restoreAllMocks());

describe("gateway route management", () => {
	it("creates, reads, replaces (version goes up) and deletes a route", async () => {
		const { apiKey } = await createTenant();
		const put = await putRoute(apiKey, "users", routeBody("/users", [A], { cache_ttl: 30, retries: 2 }));
		expect(put.status).toBe(200);
		expect(await json(put)).toMatchObject({
			name: "users",
			path_prefix: "/users",
			version: 1,
			retries: 2,
			cache_ttl: 30,
		});
		await mustPutRoute(apiKey, "users", routeBody("/people", [A, B]));
		const got = await call("GET", "/api/v1/gateway/routes/users", { token: apiKey });
		expect(await json(got)).toMatchObject({ path_prefix: "/people", version: 2, health: [] });
		const del = await call("DELETE", "/api/v1/gateway/routes/users", { token: apiKey });
		expect(await json(del)).toEqual({ name: "users", deleted: true });
		expect((await call("GET", "/api/v1/gateway/routes/users", { token: apiKey })).status).toBe(404);
		expect((await call("DELETE", "/api/v1/gateway/routes/users", { token: apiKey })).status).toBe(404);
	});

	it("lists routes by name in pages with a cursor", async () => {
		const { apiKey } = await createTenant();
		for (const n of ["r1", "r2", "r3"]) await mustPutRoute(apiKey, n, routeBody(`/${n}`, [A]));
		type Page = { routes: { name: string }[]; next_cursor: string | null };
		const first = await (await call("GET", "/api/v1/gateway/routes?limit=2", { token: apiKey })).json<Page>();
		expect(first.routes.map((r) => r.name)).toEqual(["r1", "r2"]);
		expect(first.next_cursor).toBe("r2");
		const second = await (
			await call("GET", "/api/v1/gateway/routes?limit=2&cursor=r2", { token: apiKey })
		).json<Page>();
		expect(second.routes.map((r) => r.name)).toEqual(["r3"]);
		expect(second.next_cursor).toBeNull();
	});

	it("keeps another tenant's routes invisible and unreachable", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await mustPutRoute(a.apiKey, "private", routeBody("/", [A]));
		interceptUpstreams({ [A]: () => ok("a") });
		expect((await call("GET", "/api/v1/gateway/routes/private", { token: b.apiKey })).status).toBe(404);
		expect((await call("DELETE", "/api/v1/gateway/routes/private", { token: b.apiKey })).status).toBe(404);
		const list = await json(await call("GET", "/api/v1/gateway/routes", { token: b.apiKey }));
		expect(list.routes).toEqual([]);
		// B's own route of the same name is B's; A's is untouched.
		await mustPutRoute(b.apiKey, "private", routeBody("/b", [B]));
		expect(await json(await call("GET", "/api/v1/gateway/routes/private", { token: a.apiKey }))).toMatchObject({
			path_prefix: "/",
		});
		// Traffic for B's tenant id never reaches A's route.
		const res = await gw(b.tenantId, "/anything");
		expect(res.status).toBe(404);
		expect((await gw(a.tenantId, "/anything")).status).toBe(200);
	});

	it("refuses private, loopback-https, plain http and credentialed upstreams at PUT time", async () => {
		const { apiKey } = await createTenant();
		for (const url of [
			"https://10.0.0.7/",
			"https://192.168.1.1",
			"http://upstream-a.example",
			"https://u:p@upstream-a.example",
			"https://metadata.internal/",
		]) {
			const res = await putRoute(apiKey, "bad", routeBody("/", [url]));
			expect(res.status, url).toBe(400);
			expect(await errorCode(res)).toBe("destination_not_allowed");
		}
		expect((await call("GET", "/api/v1/gateway/routes/bad", { token: apiKey })).status).toBe(404);
	});

	it("refuses at request time an upstream the policy no longer allows, without calling it", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "legacy", routeBody("/", [A]));
		// A route stored before the policy changed (or written around the API): its upstream is private now.
		const config = JSON.stringify(routeBody("/", ["https://10.1.2.3"]));
		await env.DB.prepare("UPDATE gateway_routes SET config = ?, version = version + 1 WHERE tenant_id = ?")
			.bind(config, tenantId)
			.run();
		await call("PUT", "/api/v1/gateway/routes/other", { token: apiKey, body: routeBody("/other", [B]) }); // clears this isolate's route cache
		const seen = interceptUpstreams({});
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(502);
		expect(await errorCode(res)).toBe("destination_not_allowed");
		expect(seen).toEqual([]);
	});

	it("refuses a prefix another route serves, bad names and more than 16 upstreams", async () => {
		const { apiKey } = await createTenant();
		await mustPutRoute(apiKey, "one", routeBody("/same", [A]));
		const taken = await putRoute(apiKey, "two", routeBody("/same", [B]));
		expect(taken.status).toBe(409);
		expect(await errorCode(taken)).toBe("prefix_taken");
		expect((await putRoute(apiKey, "Bad Name", routeBody("/x", [A]))).status).toBe(400);
		const many = Array.from({ length: 17 }, (_, i) => `https://u${i}.example`);
		expect((await putRoute(apiKey, "many", routeBody("/many", many))).status).toBe(400);
		expect((await putRoute(apiKey, "dup", routeBody("/dup", [A, A]))).status).toBe(400);
	});

	it("needs an API key to manage routes", async () => {
		const res = await call("GET", "/api/v1/gateway/routes");
		expect(res.status).toBe(401);
	});
});
