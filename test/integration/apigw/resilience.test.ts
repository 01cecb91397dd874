import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { call, createTenant, sleep } from "../helpers";
import { A, answers, B, errorCode, gw, interceptUpstreams, mustPutRoute, ok, routeBody } from "./apigw-helpers";

afterEach(() => vi.restoreAllMocks());

const failing = () => new Response("down", { status: 503 });

describe("gateway retries", () => {
	it("retries a GET on the next upstream after a 503", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "r", routeBody("/", [A, B], { retries: 1 }));
		const seen = interceptUpstreams({ [A]: failing, [B]: () => ok("b") });
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("b");
		expect(seen.map((s) => new URL(s.url).origin)).toEqual([A, B]);
	});

	it("retries after a network error and answers 502 when every attempt failed", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "r", routeBody("/", [A, B], { retries: 1 }));
		// Neither origin has a handler: both attempts throw as a refused connection would.
		const seen = interceptUpstreams({});
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(502);
		expect(await errorCode(res)).toBe("upstream_unavailable");
		expect(seen).toHaveLength(2);
	});

	it("never retries a POST without an Idempotency-Key: the upstream's 503 is the answer", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "r", routeBody("/", [A, B], { retries: 3 }));
		const seen = interceptUpstreams({ [A]: failing, [B]: failing });
		const res = await gw(tenantId, "/orders", { method: "POST", body: "{}" });
		expect(res.status).toBe(503);
		expect(seen).toHaveLength(1);
	});

	it("retries a POST that carries an Idempotency-Key, passing the key on", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "r", routeBody("/", [A, B], { retries: 1 }));
		const seen = interceptUpstreams({ [A]: failing, [B]: () => ok("made") });
		const res = await gw(tenantId, "/orders", { method: "POST", body: "{}", headers: { "Idempotency-Key": "k-1" } });
		expect(res.status).toBe(200);
		expect(seen.map((s) => s.headers.get("Idempotency-Key"))).toEqual(["k-1", "k-1"]);
		expect(seen.map((s) => s.body)).toEqual(["{}", "{}"]);
	});

	it("answers 504 when the upstream does not answer within timeout_ms", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "slow", routeBody("/", [A], { timeout_ms: 100, retries: 0 }));
		interceptUpstreams({ [A]: async () => (await sleep(1_000), ok()) });
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(504);
		expect(await errorCode(res)).toBe("upstream_timeout");
	});
});

describe("passive health", () => {
	it("ejects an upstream after 3 failures, then lets it back after the cool-down", async () => {
		const { apiKey, tenantId } = await createTenant();
		const passive_health = { failures: 3, window_seconds: 30, cooldown_seconds: 1 };
		await mustPutRoute(apiKey, "r", routeBody("/", [A, B], { retries: 0, passive_health }));
		let aUp = false;
		interceptUpstreams({ [A]: () => (aUp ? ok("a") : failing()), [B]: () => ok("b") });
		// Round robin alternates a, b: three of a's answers fail within six requests.
		const before = await answers(tenantId, "/x", 6);
		expect(before.filter((r) => r === "503:down")).toHaveLength(3);
		// Ejected: every request goes to b.
		expect(await answers(tenantId, "/x", 4)).toEqual(["200:b", "200:b", "200:b", "200:b"]);
		aUp = true;
		await sleep(1_100);
		// After the cool-down one trial goes to a; its success puts a back in rotation.
		const after = await answers(tenantId, "/x", 4);
		expect(after).toContain("200:a");
		expect(after.filter((r) => r === "200:a").length).toBeGreaterThanOrEqual(2);
	});

	it("answers 503 no_healthy_upstream while every upstream is ejected", async () => {
		const { apiKey, tenantId } = await createTenant();
		const passive_health = { failures: 1, window_seconds: 30, cooldown_seconds: 60 };
		await mustPutRoute(apiKey, "r", routeBody("/", [A], { retries: 0, passive_health }));
		const seen = interceptUpstreams({ [A]: failing });
		expect((await gw(tenantId, "/x")).status).toBe(503);
		const res = await gw(tenantId, "/x");
		expect(res.status).toBe(503);
		expect(await errorCode(res)).toBe("no_healthy_upstream");
		expect(res.headers.get("Retry-After")).toBe("60");
		expect(seen).toHaveLength(1);
	});
});

describe("active health checks", () => {
	it("checks each upstream's health path on the minute cron, stores the verdicts and avoids a down upstream", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "hc", routeBody("/", [A, B], { health_path: "/healthz" }));
		const seen = interceptUpstreams({
			[A]: (req) => (new URL(req.url).pathname === "/healthz" ? new Response("no", { status: 500 }) : ok("a")),
			[B]: () => ok("b"),
		});
		const ctx = createExecutionContext();
		await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);
		expect(
			seen
				.filter((s) => s.url.endsWith("/healthz"))
				.map((s) => new URL(s.url).origin)
				.sort(),
		).toEqual([A, B]);
		const got = await call("GET", "/api/v1/gateway/routes/hc", { token: apiKey });
		const { health } = await got.json<{ health: { url: string; healthy: boolean; status: number }[] }>();
		const verdicts = health.map((h) => [h.url, h.healthy, h.status]);
		verdicts.sort((x, y) => String(x[0]).localeCompare(String(y[0])));
		expect(verdicts).toEqual([
			[A, false, 500],
			[B, true, 200],
		]);
		// Isolates re-read routes and verdicts within ROUTE_CACHE_MS (5 s).
		await sleep(5_100);
		expect(await answers(tenantId, "/x", 4)).toEqual(["200:b", "200:b", "200:b", "200:b"]);
	});
});
