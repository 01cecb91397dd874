import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { breakerConfig, processorBreakerName } from "../../../src/payments/breaker";
import { sandboxCallerToken } from "../../../src/payments/sandbox-access";
import { BASE, call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { pay, paymentBody, processorCharges, sandboxAdmin, uniqueKey } from "./payment-helpers";

const CHARGE = { amount_cents: 350, currency: "EUR", card_token: "tok_visa", description: "x" };

function charge(key: string, init: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) {
	return call("POST", "/_sandbox/processor/charges", {
		...(init.token === undefined ? {} : { token: init.token }),
		body: init.body ?? CHARGE,
		headers: { ...init.headers, "Idempotency-Key": key },
	});
}

describe("the sandbox card processor's access", () => {
	it("answers 404 while SANDBOX_PROCESSOR_ENABLED is not true, whoever asks", async () => {
		const { tenantId } = await createTenant();
		const off = { ...env, SANDBOX_PROCESSOR_ENABLED: "false" };
		const res = await app.fetch(
			new Request(`${BASE}/_sandbox/processor/charges`, {
				headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Floodgate-Tenant-Id": tenantId },
			}),
			off,
		);
		expect(res.status).toBe(404);
	});

	it("refuses anonymous calls with 401: no listing of anyone's charges, no charge recorded", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("anon");
		expect((await pay(apiKey, key, paymentBody())).status).toBe(201);
		const listing = await call("GET", "/_sandbox/processor/charges", { headers: { "Floodgate-Tenant-Id": tenantId } });
		expect(listing.status).toBe(401);
		expect(await json(listing)).toMatchObject({ error: { code: "unauthorized" } });
		expect(
			(await charge(`${tenantId}:${uniqueKey("anon")}`, { headers: { "Floodgate-Tenant-Id": tenantId } })).status,
		).toBe(401);
		// A tenant's API key is not a way in either.
		expect((await call("GET", "/_sandbox/processor/charges", { token: apiKey })).status).toBe(401);
		expect(
			(
				await call("GET", "/_sandbox/processor/charges", {
					token: "nope",
					headers: { "Floodgate-Sandbox-Caller": "0".repeat(64) },
				})
			).status,
		).toBe(401);
		expect(await processorCharges(tenantId, key)).toHaveLength(1);
	});

	it("admits the platform's caller token and the admin token, each for one named tenant (400 without one)", async () => {
		const { tenantId } = await createTenant();
		const token = await sandboxCallerToken(env);
		if (token === null) throw new Error("no ADMIN_TOKEN in the test env");
		expect(token).not.toBe(env.ADMIN_TOKEN);
		const platform = await charge(`${tenantId}:${uniqueKey("platform")}`, {
			headers: { "Floodgate-Sandbox-Caller": token, "Floodgate-Tenant-Id": tenantId },
		});
		expect(platform.status).toBe(200);
		const noTenant = await call("GET", "/_sandbox/processor/charges", { token: env.ADMIN_TOKEN });
		expect(noTenant.status).toBe(400);
		expect(await json(noTenant)).toMatchObject({ error: { code: "validation_failed" } });
		const listing = await call("GET", "/_sandbox/processor/charges", sandboxAdmin(tenantId));
		expect(listing.status).toBe(200);
		expect((await json(listing)).count).toBe(1);
	});

	it("keeps each tenant's charges, keys and failures apart", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const key = uniqueKey("shared");
		expect((await pay(a.apiKey, key, paymentBody())).status).toBe(201);
		// Tenant B's sandbox account does not see A's charge, even asked for A's processor-side key.
		const asB = await call(
			"GET",
			`/_sandbox/processor/charges?idempotency_key=${encodeURIComponent(`${a.tenantId}:${key}`)}`,
			sandboxAdmin(b.tenantId),
		);
		expect((await json(asB)).count).toBe(0);
		const bListing = await json(await call("GET", "/_sandbox/processor/charges", sandboxAdmin(b.tenantId)));
		expect(bListing.count).toBe(0);
		// The same processor key with other parameters in B's account does not touch A's charge.
		const operator = sandboxAdmin(b.tenantId);
		const inB = await charge(`${a.tenantId}:${key}`, {
			token: operator.token,
			headers: operator.headers,
			body: { ...CHARGE, amount_cents: 1 },
		});
		expect(inB.status).toBe(200);
		const replay = await pay(a.apiKey, key, paymentBody());
		expect(replay.status).toBe(201);
		const [aCharge] = await processorCharges(a.tenantId, key);
		expect(aCharge).toMatchObject({ amount_cents: 350, attempts: 1 });
	});

	it("no longer lets an anonymous caller poison a tenant's key or open its breaker", async () => {
		const { tenantId, apiKey } = await createTenant();
		const keys = Array.from({ length: Number(env.BREAKER_FAILURE_THRESHOLD) }, () => uniqueKey("victim"));
		for (const key of keys) {
			// The attack of old: take the processor-side key first with other parameters (→ 422 for the platform).
			const poisoned = await charge(`${tenantId}:${key}`, {
				headers: { "Floodgate-Tenant-Id": tenantId },
				body: { ...CHARGE, amount_cents: 1 },
			});
			expect(poisoned.status).toBe(401);
		}
		for (const key of keys) expect((await pay(apiKey, key, paymentBody())).status).toBe(201);
		const breaker = env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId));
		expect(await breaker.inspect(breakerConfig(env))).toMatchObject({ state: "closed" });
		const charges: Json[] = (await Promise.all(keys.map((key) => processorCharges(tenantId, key)))).flat();
		expect(charges.map((c) => c.amount_cents)).toEqual(keys.map(() => 350));
	});
});
