import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "./helpers";
import { pay, paymentBody, processorCharges, uniqueKey } from "./payment-helpers";

describe("payments", () => {
	it("charges tok_visa once and answers 201 with the payment", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("visa");
		const res = await pay(apiKey, key, paymentBody());
		const body = await json(res);
		expect(res.status, JSON.stringify(body)).toBe(201);
		expect(body).toMatchObject({ status: "succeeded", amount_cents: 350, currency: "EUR", machine_id: "vm-001" });
		expect(res.headers.get("Location")).toBe(`/api/v1/payments/${String(body.payment_id)}`);
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({ id: body.processor_charge_id, amount_cents: 350, status: "succeeded", attempts: 1 });
		const got = await call("GET", `/api/v1/payments/${String(body.payment_id)}`, { token: apiKey });
		expect(await json(got)).toEqual(body);
		expect(env.PAYMENT_PROCESSOR_URL).toBe("/_sandbox/processor");
	});
});
