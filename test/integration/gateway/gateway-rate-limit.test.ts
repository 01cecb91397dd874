import { env } from "cloudflare:workers";
import { parseList } from "structured-headers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { call, createTenant, json, setLimits, sleep } from "../helpers";

type Rule = Record<string, unknown>;
const hourly = (limit: number, extra: Rule = {}): Rule => ({
	name: "hourly",
	scope: "tenant",
	algorithm: "fixed_window",
	limit,
	window_seconds: 3600,
	...extra,
});

async function limitedTenant(rules: Rule[]): Promise<{ tenantId: string; apiKey: string }> {
	const t = await createTenant();
	await setLimits(t.tenantId, rules);
	return t;
}

async function burst(apiKey: string, n: number): Promise<Response[]> {
	return Promise.all(Array.from({ length: n }, () => call("GET", "/api/v1/whoami", { token: apiKey })));
}

function statusCounts(responses: Response[]): Record<number, number> {
	const counts: Record<number, number> = {};
	for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
	return counts;
}

/** A RATE_LIMITER namespace whose objects cannot be reached, as during an overload or outage. */
const unreachableLimiter = {
	getByName: () => ({
		acquire: () => Promise.reject(new Error("Durable Object is overloaded")),
		peek: () => Promise.reject(new Error("Durable Object is overloaded")),
	}),
};

describe("gateway rate limiting", () => {
	it("admits exactly the limit under 200 concurrent requests", async () => {
		const { apiKey } = await limitedTenant([hourly(50)]);
		expect(statusCounts(await burst(apiKey, 200))).toEqual({ 200: 50, 429: 150 });
	});

	it("admits exactly the limit of each algorithm under concurrency", async () => {
		for (const algorithm of ["token_bucket", "sliding_window", "fixed_window"]) {
			// A slow refill (30 per hour) keeps the bucket's refill out of the count.
			const { apiKey } = await limitedTenant([
				{ name: "p", scope: "tenant", algorithm, limit: 30, window_seconds: 3600 },
			]);
			expect(statusCounts(await burst(apiKey, 120)), algorithm).toEqual({ 200: 30, 429: 90 });
		}
	});

	it("sends the IETF RateLimit fields as valid Structured Fields, and X-RateLimit-*", async () => {
		const { apiKey } = await limitedTenant([
			hourly(10),
			{ name: "burst", scope: "tenant", algorithm: "token_bucket", limit: 5, window_seconds: 1, burst: 20 },
		]);
		const res = await call("GET", "/api/v1/whoami", { token: apiKey });
		expect(res.status).toBe(200);
		const policy = parseList(res.headers.get("RateLimit-Policy") ?? "");
		expect(policy.map(([name, params]) => [name, Object.fromEntries(params)])).toEqual([
			["hourly", { q: 10, w: 3600 }],
			["burst", { q: 20, w: 4 }],
		]);
		const state = parseList(res.headers.get("RateLimit") ?? "");
		const hourlyState = Object.fromEntries(state[0]?.[1] ?? new Map());
		expect(state[0]?.[0]).toBe("hourly");
		expect(hourlyState.r).toBe(9);
		expect(hourlyState.t).toBeGreaterThan(0);
		expect(hourlyState.t).toBeLessThanOrEqual(3600);
		expect(res.headers.get("X-RateLimit-Limit")).toBe("10");
		expect(res.headers.get("X-RateLimit-Remaining")).toBe("9");
		const reset = Number(res.headers.get("X-RateLimit-Reset"));
		expect(reset).toBeGreaterThan(Date.now() / 1000);
		expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 3601);
	});

	it("rejects with 429, Retry-After no earlier than t, and names the violated policy", async () => {
		const { apiKey } = await limitedTenant([
			hourly(1000),
			{ name: "tiny", scope: "tenant", algorithm: "fixed_window", limit: 2, window_seconds: 60 },
		]);
		await burst(apiKey, 2);
		const res = await call("GET", "/api/v1/whoami", { token: apiKey });
		expect(res.status).toBe(429);
		const body = await json(res);
		expect(body).toMatchObject({
			error: { code: "rate_limited", details: { policies: ["tiny"] } },
			request_id: expect.any(String),
		});
		const retryAfter = Number(res.headers.get("Retry-After"));
		const tiny = parseList(res.headers.get("RateLimit") ?? "").find(([name]) => name === "tiny");
		const t = Number(tiny?.[1].get("t"));
		expect(tiny?.[1].get("r")).toBe(0);
		expect(retryAfter).toBeGreaterThanOrEqual(t);
		expect(retryAfter).toBeLessThanOrEqual(60);
	});

	it("refills a token bucket over time", async () => {
		const { apiKey } = await limitedTenant([
			{ name: "b", scope: "tenant", algorithm: "token_bucket", limit: 10, window_seconds: 1, burst: 3 },
		]);
		expect(statusCounts(await burst(apiKey, 6))).toEqual({ 200: 3, 429: 3 });
		await sleep(350); // 10 per second: at least 3 tokens are back
		expect(statusCounts(await burst(apiKey, 3))).toEqual({ 200: 3 });
	});

	it("charges a request's cost in tokens", async () => {
		const { apiKey } = await limitedTenant([hourly(10, { cost: 3 })]);
		expect(statusCounts(await burst(apiKey, 5))).toEqual({ 200: 3, 429: 2 });
	});

	it("requires every policy to pass and takes nothing when one fails", async () => {
		const { apiKey } = await limitedTenant([
			hourly(100),
			{ name: "perkey", scope: "api_key", algorithm: "fixed_window", limit: 2, window_seconds: 3600 },
		]);
		await burst(apiKey, 5); // 2 pass, 3 are denied by perkey
		const res = await call("GET", "/api/v1/whoami", { token: apiKey });
		const hourlyLeft = parseList(res.headers.get("RateLimit") ?? "")
			.find(([name]) => name === "hourly")?.[1]
			.get("r");
		expect(hourlyLeft).toBe(98);
	});

	it("keeps keys and tenants independent", async () => {
		const perKey = [{ name: "perkey", scope: "api_key", algorithm: "fixed_window", limit: 3, window_seconds: 3600 }];
		const a = await limitedTenant(perKey);
		const b = await limitedTenant(perKey);
		expect(statusCounts(await burst(a.apiKey, 5))).toEqual({ 200: 3, 429: 2 });
		expect(statusCounts(await burst(b.apiKey, 5))).toEqual({ 200: 3, 429: 2 });
		const second = await json(
			await call("POST", `/api/v1/admin/tenants/${a.tenantId}/keys`, { token: env.ADMIN_TOKEN, body: { name: "k2" } }),
		);
		expect(statusCounts(await burst(String(second.api_key), 5))).toEqual({ 200: 3, 429: 2 });
	});

	it("applies the platform defaults to a tenant without its own limits", async () => {
		const { apiKey } = await createTenant();
		const res = await call("GET", "/api/v1/whoami", { token: apiKey });
		expect(res.headers.get("RateLimit-Policy")).toContain('"tenant-burst"');
		expect(res.headers.get("RateLimit-Policy")).toContain('"key-minute"');
	});

	it("limits only the routes a rule covers", async () => {
		const { apiKey } = await limitedTenant([{ ...hourly(1), path_prefix: "/api/v1/ratelimit/" }]);
		expect(statusCounts(await burst(apiKey, 3))).toEqual({ 200: 3 });
	});

	it("denies repeat offenders in the isolate without asking the object again", async () => {
		const { apiKey } = await limitedTenant([hourly(2)]);
		await burst(apiKey, 2);
		let calls = 0;
		// Count calls on the way to the real namespace: nothing is faked here.
		const counting = {
			getByName: (name: string) => {
				calls++;
				return env.RATE_LIMITER.getByName(name);
			},
		};
		const statuses: number[] = [];
		for (let i = 0; i < 20; i++) {
			const res = await app.request(
				"/api/v1/whoami",
				{ headers: { Authorization: `Bearer ${apiKey}` } },
				{ ...env, RATE_LIMITER: counting },
			);
			statuses.push(res.status);
		}
		expect(new Set(statuses)).toEqual(new Set([429]));
		expect(calls).toBeLessThanOrEqual(1);
	});

	it("fails open by default when the limiter cannot answer", async () => {
		const { apiKey } = await limitedTenant([hourly(1)]);
		const res = await app.request(
			"/api/v1/whoami",
			{ headers: { Authorization: `Bearer ${apiKey}` } },
			{ ...env, RATE_LIMITER: unreachableLimiter },
		);
		expect(res.status).toBe(200);
	});

	it("fails closed with 503 when the rule says so", async () => {
		const { apiKey } = await limitedTenant([hourly(1000), hourly(1, { name: "strict", on_failure: "closed" })]);
		const res = await app.request(
			"/api/v1/whoami",
			{ headers: { Authorization: `Bearer ${apiKey}` } },
			{ ...env, RATE_LIMITER: unreachableLimiter },
		);
		expect(res.status).toBe(503);
		expect(res.headers.get("Retry-After")).toBe("1");
		expect(await json(res)).toMatchObject({ error: { code: "rate_limiter_unavailable" } });
	});

	it("validates limit overrides", async () => {
		const { tenantId } = await createTenant();
		const bad = await call("PUT", `/api/v1/admin/tenants/${tenantId}/limits`, {
			token: env.ADMIN_TOKEN,
			body: { rules: [{ name: "x", scope: "planet", algorithm: "fixed_window", limit: 0, window_seconds: 1 }] },
		});
		expect(bad.status).toBe(400);
		const dup = await call("PUT", `/api/v1/admin/tenants/${tenantId}/limits`, {
			token: env.ADMIN_TOKEN,
			body: { rules: [hourly(1), hourly(2)] },
		});
		expect(dup.status).toBe(400);
		const reset = await call("DELETE", `/api/v1/admin/tenants/${tenantId}/limits`, { token: env.ADMIN_TOKEN });
		expect(await json(reset)).toMatchObject({ source: "default" });
	});
});
