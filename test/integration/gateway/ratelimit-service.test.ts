import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { call, createTenant, json, sleep } from "../helpers";

type Check = { allowed: boolean; remaining: number; limit: number; reset_at: number; retry_after: number | null };

async function putRule(apiKey: string, resource: string, rule: Record<string, unknown>): Promise<Response> {
	return call("PUT", `/api/v1/ratelimit/rules/${resource}`, { token: apiKey, body: rule });
}

async function check(apiKey: string, key: string, resource: string, tokens?: number): Promise<Check> {
	const res = await call("POST", "/api/v1/ratelimit/check", {
		token: apiKey,
		body: { key, resource, ...(tokens ? { tokens } : {}) },
	});
	expect(res.status).toBe(200);
	return await res.json<Check>();
}

describe("rate limiting as a service", () => {
	it("stores a rule and returns it", async () => {
		const { apiKey } = await createTenant();
		const res = await putRule(apiKey, "login", { algorithm: "sliding_window", limit: 5, window_seconds: 60 });
		expect(res.status).toBe(200);
		expect(await json(res)).toMatchObject({
			resource: "login",
			algorithm: "sliding_window",
			limit: 5,
			window_seconds: 60,
			burst: null,
			on_failure: "open",
		});
		const listed = await json(await call("GET", "/api/v1/ratelimit/rules", { token: apiKey }));
		expect(listed.rules).toEqual([expect.objectContaining({ resource: "login" })]);
	});

	it("checks keys against the rule until the limit, then tells when to retry", async () => {
		const { apiKey } = await createTenant();
		await putRule(apiKey, "sms", { algorithm: "fixed_window", limit: 3, window_seconds: 60 });
		const results = [];
		for (let i = 0; i < 4; i++) results.push(await check(apiKey, "user-42", "sms"));
		expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
		expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
		const denied = results[3] as Check;
		expect(denied.limit).toBe(3);
		expect(denied.retry_after).toBeGreaterThanOrEqual(1);
		expect(denied.retry_after).toBeLessThanOrEqual(60);
		expect(denied.reset_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
		// Another key of the same resource has its own quota.
		expect((await check(apiKey, "user-43", "sms")).allowed).toBe(true);
	});

	it("admits exactly the limit for one key under 200 concurrent checks", async () => {
		const { apiKey } = await createTenant();
		await putRule(apiKey, "api", { algorithm: "token_bucket", limit: 40, window_seconds: 3600 });
		const all = await Promise.all(Array.from({ length: 200 }, () => check(apiKey, "k", "api")));
		expect(all.filter((r) => r.allowed).length).toBe(40);
	});

	it("charges tokens > 1 and refuses a cost above the capacity for good", async () => {
		const { apiKey } = await createTenant();
		await putRule(apiKey, "export", { algorithm: "token_bucket", limit: 10, window_seconds: 60, burst: 10 });
		expect(await check(apiKey, "k", "export", 4)).toMatchObject({ allowed: true, remaining: 6 });
		expect(await check(apiKey, "k", "export", 7)).toMatchObject({ allowed: false });
		expect(await check(apiKey, "k", "export", 11)).toMatchObject({ allowed: false, retry_after: null });
	});

	it("refills over time", async () => {
		const { apiKey } = await createTenant();
		// One token a second: slow enough that a loaded machine still empties the bucket before it refills.
		await putRule(apiKey, "poll", { algorithm: "token_bucket", limit: 2, window_seconds: 2, burst: 2 });
		let denied = false;
		for (let i = 0; i < 4 && !denied; i++) denied = !(await check(apiKey, "k", "poll")).allowed;
		expect(denied).toBe(true);
		await sleep(1_100);
		expect((await check(apiKey, "k", "poll")).allowed).toBe(true);
	});

	it("reports status without taking anything", async () => {
		const { apiKey } = await createTenant();
		await putRule(apiKey, "upload", { algorithm: "fixed_window", limit: 5, window_seconds: 60 });
		await check(apiKey, "dev-1", "upload", 2);
		for (let i = 0; i < 2; i++) {
			const res = await call("GET", "/api/v1/ratelimit/status/dev-1/upload", { token: apiKey });
			expect(res.status).toBe(200);
			expect(await json(res)).toMatchObject({ limit: 5, remaining: 3, reset_at: expect.any(Number) });
		}
	});

	it("404s an unknown resource on check, status and delete", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/ratelimit/check", { token: apiKey, body: { key: "k", resource: "nope" } });
		expect(res.status).toBe(404);
		expect(await json(res)).toMatchObject({ error: { code: "unknown_resource" } });
		expect((await call("GET", "/api/v1/ratelimit/status/k/nope", { token: apiKey })).status).toBe(404);
		expect((await call("DELETE", "/api/v1/ratelimit/rules/nope", { token: apiKey })).status).toBe(404);
	});

	it("keeps one tenant's rules and keys invisible to another", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await putRule(a.apiKey, "shared-name", { algorithm: "fixed_window", limit: 1, window_seconds: 60 });
		await check(a.apiKey, "k", "shared-name");
		expect(
			(await call("POST", "/api/v1/ratelimit/check", { token: b.apiKey, body: { key: "k", resource: "shared-name" } }))
				.status,
		).toBe(404);
		expect((await json(await call("GET", "/api/v1/ratelimit/rules", { token: b.apiKey }))).rules).toEqual([]);
		await putRule(b.apiKey, "shared-name", { algorithm: "fixed_window", limit: 1, window_seconds: 60 });
		expect((await check(b.apiKey, "k", "shared-name")).allowed).toBe(true);
	});

	it("rejects bad rules and checks with 400", async () => {
		const { apiKey } = await createTenant();
		expect(
			(await putRule(apiKey, "x", { algorithm: "fixed_window", limit: 5, window_seconds: 60, burst: 3 })).status,
		).toBe(400);
		expect(
			(await putRule(apiKey, "bad%20name", { algorithm: "fixed_window", limit: 5, window_seconds: 60 })).status,
		).toBe(400);
		await putRule(apiKey, "ok", { algorithm: "fixed_window", limit: 5, window_seconds: 60 });
		for (const body of [
			{ key: "", resource: "ok" },
			{ key: "k", resource: "ok", tokens: 0 },
			{ key: "a b", resource: "ok" },
			{ resource: "ok" },
		]) {
			expect((await call("POST", "/api/v1/ratelimit/check", { token: apiKey, body })).status).toBe(400);
		}
	});

	it("answers per the rule's failure mode when the limiter is unreachable", async () => {
		const { apiKey } = await createTenant();
		await putRule(apiKey, "open", { algorithm: "fixed_window", limit: 5, window_seconds: 60 });
		await putRule(apiKey, "closed", { algorithm: "fixed_window", limit: 5, window_seconds: 60, on_failure: "closed" });
		// The gateway's own limits are off for this tenant so only the checked rule meets the outage.
		await call(
			"PUT",
			`/api/v1/admin/tenants/${(await json(await call("GET", "/api/v1/whoami", { token: apiKey }))).tenant_id as string}/limits`,
			{ token: env.ADMIN_TOKEN, body: { rules: [] } },
		);
		const unreachable = {
			getByName: () => ({
				acquire: () => Promise.reject(new Error("overloaded")),
				peek: () => Promise.reject(new Error("overloaded")),
			}),
		};
		const ask = async (resource: string) => {
			const res = await app.request(
				"/api/v1/ratelimit/check",
				{
					method: "POST",
					headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
					body: JSON.stringify({ key: "k", resource }),
				},
				{ ...env, RATE_LIMITER: unreachable },
			);
			return await res.json<Check & { degraded: boolean }>();
		};
		expect(await ask("open")).toMatchObject({ allowed: true, degraded: true });
		expect(await ask("closed")).toMatchObject({ allowed: false, degraded: true, retry_after: 1 });
	});
});
