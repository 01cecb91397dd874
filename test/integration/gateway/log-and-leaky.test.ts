import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parseList } from "structured-headers";
import { describe, expect, it } from "vitest";
import type { Policy } from "../../../src/gateway/limiter/domain";
import { call, createTenant, json, setLimits } from "../helpers";

type Check = { allowed: boolean; remaining: number; retry_after: number | null; delay_ms: number | null };

async function putRule(apiKey: string, resource: string, rule: Record<string, unknown>): Promise<Response> {
	return call("PUT", `/api/v1/ratelimit/rules/${resource}`, { token: apiKey, body: rule });
}

async function check(apiKey: string, key: string, resource: string): Promise<Check> {
	const res = await call("POST", "/api/v1/ratelimit/check", { token: apiKey, body: { key, resource } });
	expect(res.status).toBe(200);
	return await res.json<Check>();
}

function policyParams(res: Response, header: string): [string, Record<string, unknown>][] {
	return parseList(res.headers.get(header) ?? "").map(([name, params]) => [
		typeof name === "string" ? name : JSON.stringify(name),
		Object.fromEntries(params),
	]);
}

describe("sliding_window_log", () => {
	it("admits exactly the limit for one key under 200 concurrent checks", async () => {
		const { apiKey } = await createTenant();
		expect(
			(await putRule(apiKey, "login", { algorithm: "sliding_window_log", limit: 40, window_seconds: 60 })).status,
		).toBe(200);
		const all = await Promise.all(Array.from({ length: 200 }, () => check(apiKey, "user-1", "login")));
		expect(all.filter((r) => r.allowed).length).toBe(40);
		const refused = all.find((r) => !r.allowed);
		expect(refused?.retry_after).toBeGreaterThanOrEqual(59);
		expect(all.every((r) => (r.allowed ? r.delay_ms === 0 : r.delay_ms === null))).toBe(true);
	});

	it("admits exactly the limit under 200 concurrent gateway requests, with its policy in the headers", async () => {
		const { tenantId, apiKey } = await createTenant();
		await setLimits(tenantId, [
			{ name: "exact", scope: "tenant", algorithm: "sliding_window_log", limit: 50, window_seconds: 3600 },
		]);
		const responses = await Promise.all(
			Array.from({ length: 200 }, () => call("GET", "/api/v1/whoami", { token: apiKey })),
		);
		expect(responses.filter((r) => r.status === 200).length).toBe(50);
		expect(responses.filter((r) => r.status === 429).length).toBe(150);
		const ok = responses.find((r) => r.status === 200);
		if (!ok) throw new Error("nothing admitted");
		expect(policyParams(ok, "RateLimit-Policy")).toEqual([["exact", { q: 50, w: 3600 }]]);
		const [[name, state] = ["", {}]] = policyParams(ok, "RateLimit");
		expect(name).toBe("exact");
		expect(state.r).toBeLessThan(50);
		expect(state.t).toBeGreaterThan(3500);
	});

	it("refuses a limit above 10,000 with a clear 400, for service rules and gateway rules", async () => {
		const { tenantId, apiKey } = await createTenant();
		const res = await putRule(apiKey, "big", { algorithm: "sliding_window_log", limit: 10_001, window_seconds: 60 });
		expect(res.status).toBe(400);
		expect(JSON.stringify(await json(res))).toContain("limit must be at most 10000");
		expect(
			(await putRule(apiKey, "ok", { algorithm: "sliding_window_log", limit: 10_000, window_seconds: 60 })).status,
		).toBe(200);
		const gateway = await call("PUT", `/api/v1/admin/tenants/${tenantId}/limits`, {
			token: env.ADMIN_TOKEN,
			body: {
				rules: [{ name: "big", scope: "tenant", algorithm: "sliding_window_log", limit: 20_000, window_seconds: 60 }],
			},
		});
		expect(gateway.status).toBe(400);
	});

	it("keeps its log in the object's storage across an eviction and prunes aged-out entries", async () => {
		const log: Policy = { name: "log", algorithm: "sliding_window_log", limit: 3, windowSeconds: 1 };
		const stub = env.RATE_LIMITER.getByName("test:log");
		for (let i = 0; i < 3; i++)
			expect(await stub.acquire([log], { cost: 1, want: 10 })).toMatchObject({ allowed: true, granted: 1 });
		await evictDurableObject(stub);
		expect(await stub.acquire([log], { cost: 1, want: 1 })).toMatchObject({ allowed: false });
		await new Promise((resolve) => setTimeout(resolve, 1100));
		expect(await stub.acquire([log], { cost: 1, want: 1 })).toMatchObject({ allowed: true });
		const rows = await runInDurableObject(
			stub,
			(_i, state) => state.storage.sql.exec("SELECT SUM(n) AS n FROM log_entries").one().n,
		);
		expect(rows).toBe(1);
	});
});

describe("leaky_bucket", () => {
	it("answers delay_ms so a client can wait its turn, and refuses once the wait would exceed max_delay_ms", async () => {
		const { apiKey } = await createTenant();
		// One per 10 s, bursts of 1, a wait of up to 25 s: three fit (now, in ~10 s, in ~20 s).
		const rule = { algorithm: "leaky_bucket", limit: 1, window_seconds: 10, max_delay_ms: 25_000 };
		const put = await putRule(apiKey, "downstream", rule);
		expect(await json(put)).toMatchObject({ ...rule, burst: null });
		const all = await Promise.all(Array.from({ length: 200 }, () => check(apiKey, "k", "downstream")));
		const admitted = all.filter((r) => r.allowed);
		expect(admitted.length).toBe(3);
		const delays = admitted.map((r) => r.delay_ms ?? -1).sort((a, b) => a - b);
		expect(delays[0]).toBe(0);
		expect(delays[1]).toBeGreaterThan(9_000);
		expect(delays[1]).toBeLessThanOrEqual(10_000);
		expect(delays[2]).toBeGreaterThan(19_000);
		expect(delays[2]).toBeLessThanOrEqual(20_000);
		expect(all.filter((r) => !r.allowed).every((r) => r.delay_ms === null && (r.retry_after ?? 0) >= 1)).toBe(true);
	});

	it("refuses max_delay_ms on other algorithms", async () => {
		const { apiKey } = await createTenant();
		const res = await putRule(apiKey, "x", {
			algorithm: "fixed_window",
			limit: 5,
			window_seconds: 60,
			max_delay_ms: 100,
		});
		expect(res.status).toBe(400);
	});

	it("makes the gateway wait in the Worker until each request's turn", async () => {
		const { tenantId, apiKey } = await createTenant();
		await setLimits(tenantId, [
			{ name: "shape", scope: "tenant", algorithm: "leaky_bucket", limit: 10, window_seconds: 1, max_delay_ms: 1000 },
		]);
		const started = Date.now();
		const finished: number[] = [];
		const responses = await Promise.all(
			Array.from({ length: 4 }, async () => {
				const res = await call("GET", "/api/v1/whoami", { token: apiKey });
				finished.push(Date.now() - started);
				return res;
			}),
		);
		expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
		// One every 100 ms: the fourth cannot finish before ~300 ms.
		expect(Math.max(...finished)).toBeGreaterThanOrEqual(280);
		const first = responses[0];
		if (!first) throw new Error("no response");
		expect(policyParams(first, "RateLimit-Policy")).toEqual([["shape", { q: 10, w: 1 }]]);
		// Beyond max_delay_ms (11 more would need over a second of waiting) requests are refused.
		const flood = await Promise.all(Array.from({ length: 30 }, () => call("GET", "/api/v1/whoami", { token: apiKey })));
		expect(flood.filter((r) => r.status === 429).length).toBeGreaterThan(0);
	});
});
