import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AUTH_FAILURE_POLICY } from "../../../src/gateway/tenants/auth-failures";
import { hashSecret } from "../../../src/gateway/tenants/domain";
import { call, createTenant, json } from "../helpers";

const LIMIT = AUTH_FAILURE_POLICY.limit;

function randomHex(bytes: number): string {
	return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const badKey = () => `fg_live_${randomHex(20)}`;
const badDeviceToken = () => `fg_dev_${randomHex(20)}`;

function whoami(token: string, ip?: string): Promise<Response> {
	return call("GET", "/api/v1/whoami", { token, headers: ip === undefined ? {} : { "CF-Connecting-IP": ip } });
}

describe("failed authentication attempts are limited per IP", () => {
	it("answers 429 with Retry-After after the limit, while a good key from another IP still works", async () => {
		const { apiKey } = await createTenant();
		const ip = "203.0.113.7";
		for (let i = 0; i < LIMIT; i++) expect((await whoami(badKey(), ip)).status).toBe(401);

		const over = await whoami(badKey(), ip);
		expect(over.status).toBe(429);
		expect(Number(over.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		expect(Number(over.headers.get("Retry-After"))).toBeLessThanOrEqual(AUTH_FAILURE_POLICY.windowSeconds);
		expect(await json(over)).toMatchObject({
			error: { code: "rate_limited", details: { policies: ["auth_failures"] } },
		});
		// Blocked before the lookup: even a valid key this isolate has not verified yet waits.
		expect((await whoami(apiKey, ip)).status).toBe(429);

		expect((await whoami(apiKey, "198.51.100.1")).status).toBe(200);
		// Once verified, the key is answered from the cache without a lookup, so the blocked IP may use it.
		expect((await whoami(apiKey, ip)).status).toBe(200);
	});

	it("counts unknown device tokens the same way", async () => {
		const ip = "203.0.113.8";
		const path = "/api/v1/machines/vm-1";
		for (let i = 0; i < LIMIT; i++)
			expect((await call("GET", path, { token: badDeviceToken(), headers: { "CF-Connecting-IP": ip } })).status).toBe(
				401,
			);
		const over = await call("GET", path, { token: badDeviceToken(), headers: { "CF-Connecting-IP": ip } });
		expect(over.status).toBe(429);
		expect(over.headers.get("Retry-After")).not.toBeNull();
	});

	it("counts a repeated bad key each time (it is answered from the negative cache)", async () => {
		const ip = "203.0.113.9";
		const key = badKey();
		for (let i = 0; i < LIMIT; i++) expect((await whoami(key, ip)).status).toBe(401);
		expect((await whoami(key, ip)).status).toBe(429);
	});

	it("never counts successful requests", async () => {
		const { apiKey } = await createTenant();
		const ip = "203.0.113.10";
		for (let i = 0; i < LIMIT * 2; i++) expect((await whoami(apiKey, ip)).status).toBe(200);
		expect((await whoami(badKey(), ip)).status).toBe(401);
	});
});

describe("the negative cache", () => {
	it("answers a repeated unknown key from memory, without asking D1 again, within the cache window", async () => {
		const { tenantId } = await createTenant();
		const key = badKey();
		expect((await whoami(key)).status).toBe(401);
		// The key appears in D1 behind the cache's back: only a new lookup would find it.
		await env.DB.prepare(
			"INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, created_at) VALUES (?, ?, 'late', ?, ?, ?)",
		)
			.bind(`key_${randomHex(12)}`, tenantId, await hashSecret(key), key.slice(0, 12), Date.now())
			.run();
		expect((await whoami(key)).status).toBe(401);
	});

	it("keeps verified keys working through a flood of distinct bad keys", async () => {
		const { apiKey } = await createTenant();
		expect((await whoami(apiKey)).status).toBe(200);
		await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?")
			.bind(Date.now(), await hashSecret(apiKey))
			.run();
		// 200 while D1 has it revoked: still the verified cache entry (the eviction bound itself is
		// shown with small capacities in test/unit/gateway/credential-cache.test.ts).
		const flood = await Promise.all(Array.from({ length: 200 }, () => whoami(badKey())));
		expect(flood.every((res) => res.status === 401)).toBe(true);
		expect((await whoami(apiKey)).status).toBe(200);
	});
});
