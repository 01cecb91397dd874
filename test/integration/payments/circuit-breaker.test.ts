import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { breakerConfig, processorBreakerName } from "../../../src/payments/breaker";
import { createTenant, json } from "../helpers";
import { pay, paymentBody, processorCharges, uniqueKey } from "./payment-helpers";

describe("the payment processor's circuit breaker", () => {
	it("opens after N processor failures, answers 503 with Retry-After without calling the processor, then lets one trial through", async () => {
		const { tenantId, apiKey } = await createTenant();
		const threshold = Number(env.BREAKER_FAILURE_THRESHOLD);
		for (let i = 0; i < threshold; i++)
			expect((await pay(apiKey, uniqueKey("fail"), paymentBody("tok_error"))).status).toBe(502);
		const breaker = env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId));
		expect(await breaker.inspect(breakerConfig(env))).toMatchObject({ state: "open" });

		const refusedKey = uniqueKey("refused");
		const refused = await pay(apiKey, refusedKey, paymentBody());
		expect(refused.status).toBe(503);
		const retryAfter = Number(refused.headers.get("Retry-After"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(Number(env.BREAKER_COOLDOWN_SECONDS));
		expect(await json(refused)).toMatchObject({ error: { code: "payment_processor_unavailable" } });
		expect(await processorCharges(tenantId, refusedKey)).toHaveLength(0);

		// Another tenant's breaker is its own.
		const other = await createTenant("other");
		expect((await pay(other.apiKey, uniqueKey("other"), paymentBody())).status).toBe(201);

		// The cool-down passes (asked with a zero cool-down, as the clock would): this caller gets the one trial.
		const trial = await breaker.admit({ ...breakerConfig(env), cooldownMs: 0 });
		expect(trial).toEqual({ allowed: true, trial: true });
		const duringKey = uniqueKey("during-trial");
		expect((await pay(apiKey, duringKey, paymentBody())).status).toBe(503);
		expect(await processorCharges(tenantId, duringKey)).toHaveLength(0);
		// The trial fails: open again. Then a successful trial closes it and payments flow.
		expect(await breaker.record(breakerConfig(env), { success: false, trial: true })).toMatchObject({ state: "open" });
		expect((await pay(apiKey, uniqueKey("reopened"), paymentBody())).status).toBe(503);
		expect(await breaker.admit({ ...breakerConfig(env), cooldownMs: 0 })).toEqual({ allowed: true, trial: true });
		expect(await breaker.record(breakerConfig(env), { success: true, trial: true })).toEqual({
			state: "closed",
			failures: [],
		});
		const after = await pay(apiKey, refusedKey, paymentBody());
		expect(after.status).toBe(201);
		expect((await json(after)).status).toBe("succeeded");
		expect(await processorCharges(tenantId, refusedKey)).toHaveLength(1);
	});

	it("is shared by all requests: a breaker opened elsewhere refuses a concurrent burst", async () => {
		const { tenantId, apiKey } = await createTenant();
		const breaker = env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId));
		const config = { ...breakerConfig(env), cooldownMs: 0 };
		for (let i = 0; i < config.failureThreshold; i++) await breaker.record(config, { success: false, trial: false });
		expect(await breaker.inspect(config)).toMatchObject({ state: "open" });
		const burst = await Promise.all(Array.from({ length: 5 }, () => pay(apiKey, uniqueKey("burst"), paymentBody())));
		expect(burst.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
	});
});
