import { currentHome } from "../../../src/gateway/idempotency/store";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { NewPaymentRow } from "../../../src/payments/db";
import { claimPayment } from "../../../src/payments/db";
import { canonicalBody, canonicalJson } from "../../../src/gateway/idempotency/domain";
import { sha256Hex } from "../../../src/platform/crypto";
import { call, createTenant, json, sleep } from "../helpers";
import type { Json } from "../helpers";
import { pay, paymentBody, processorCharges, sandboxAdmin, uniqueKey } from "./payment-helpers";

describe("payments", () => {
	it("charges tok_visa once and answers 201 with the payment, readable by id", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("visa");
		const res = await pay(apiKey, key, paymentBody());
		const body = await json(res);
		expect(res.status, JSON.stringify(body)).toBe(201);
		expect(body).toMatchObject({ status: "succeeded", amount_cents: 350, currency: "EUR", machine_id: "vm-001" });
		expect(res.headers.get("Location")).toBe(`/api/v1/payments/${String(body.payment_id)}`);
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({
			id: body.processor_charge_id,
			amount_cents: 350,
			status: "succeeded",
			attempts: 1,
		});
		const got = await call("GET", `/api/v1/payments/${String(body.payment_id)}`, { token: apiKey });
		expect(await json(got)).toEqual(body);
		const other = await createTenant("other");
		expect((await call("GET", `/api/v1/payments/${String(body.payment_id)}`, { token: other.apiKey })).status).toBe(
			404,
		);
	});

	it("answers 402 for tok_declined, records the declined payment and replays the 402", async () => {
		const { tenantId, apiKey } = await createTenant();
		const res = await pay(apiKey, "declined-1", paymentBody("tok_declined"));
		expect(res.status).toBe(402);
		const body = await json(res);
		expect(body).toMatchObject({
			error: { code: "card_declined", details: { payment: { status: "declined", decline_code: "card_declined" } } },
		});
		const replay = await pay(apiKey, "declined-1", paymentBody("tok_declined"));
		expect(replay.status).toBe(402);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await processorCharges(tenantId, "declined-1")).toHaveLength(1);
	});

	it("sends exactly one charge to the processor for 50 identical concurrent requests", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("burst");
		const responses = await Promise.all(Array.from({ length: 50 }, () => pay(apiKey, key, paymentBody())));
		// One runs; the others either find it running (409) or find its stored result (replayed 201).
		const fresh = responses.filter((r) => r.status === 201 && r.headers.get("Idempotent-Replayed") === null);
		const replayed = responses.filter((r) => r.status === 201 && r.headers.get("Idempotent-Replayed") === "true");
		const busy = responses.filter((r) => r.status === 409);
		expect(fresh).toHaveLength(1);
		expect(fresh.length + replayed.length + busy.length).toBe(50);
		for (const r of busy) expect(Number(r.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		const winner = await json(fresh[0] as Response);
		for (const r of replayed) expect(await json(r)).toEqual(winner);
		const retry = await pay(apiKey, key, paymentBody());
		expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json(retry)).toEqual(winner);
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]?.attempts).toBe(1);
	});

	it("charges once when the processor times out and the request is retried", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("timeout");
		const started = Date.now();
		const first = await pay(apiKey, key, paymentBody("tok_timeout"));
		expect(first.status).toBe(504);
		expect(Date.now() - started).toBeLessThan(Number(env.SANDBOX_PROCESSOR_HANG_MS));
		const paymentId = String(((await json(first)).error as { details: Json }).details.payment_id);
		expect(await json(await call("GET", `/api/v1/payments/${paymentId}`, { token: apiKey }))).toMatchObject({
			status: "pending",
		});
		const retry = await pay(apiKey, key, paymentBody("tok_timeout"));
		expect(retry.status).toBe(201);
		expect(await json(retry)).toMatchObject({ payment_id: paymentId, status: "succeeded" });
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]?.attempts).toBe(2);
	});

	it("charges once when the processor answers 500 and the request is retried", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("error");
		const first = await pay(apiKey, key, paymentBody("tok_error"));
		expect(first.status).toBe(502);
		expect(await json(first)).toMatchObject({ error: { code: "payment_processor_error" } });
		const retry = await pay(apiKey, key, paymentBody("tok_error"));
		expect(retry.status).toBe(201);
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({ attempts: 2, id: (await json(retry)).processor_charge_id });
	});

	it("charges once when the client retries after the lock of a crashed request expired", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("crash");
		const body = paymentBody();
		// The crashed request: it held the key (a 1.5 s lock, wide enough for the setup below on a
		// loaded machine) and reached the processor, then died.
		const lock = await currentHome(env, tenantId, `${tenantId}:${key}`).begin(
			{ method: "POST", path: "/api/v1/payments", bodyHash: await sha256Hex(canonicalBody(JSON.stringify(body))) },
			1_500,
			86_400_000,
		);
		expect(lock.kind).toBe("acquired");
		const claimed = await claimPayment(env.DB, await pendingRow(tenantId, key));
		// The sandbox now answers only the platform or the admin token, for one tenant at a time.
		const operator = sandboxAdmin(tenantId);
		const charged = await call("POST", "/_sandbox/processor/charges", {
			token: operator.token,
			body: { amount_cents: 350, currency: "EUR", card_token: "tok_visa", description: "vending machine vm-001" },
			headers: { ...operator.headers, "Idempotency-Key": `${tenantId}:${key}` },
		});
		expect(charged.status).toBe(200);
		expect((await pay(apiKey, key, body)).status).toBe(409);
		await sleep(1_550);
		const retry = await pay(apiKey, key, body);
		expect(retry.status).toBe(201);
		const paid = await json(retry);
		expect(paid.payment_id).toBe(claimed.id);
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({ attempts: 2, id: paid.processor_charge_id });
	});
});

/** The ledger row the crashed request had claimed before calling the processor. */
async function pendingRow(tenantId: string, key: string): Promise<NewPaymentRow> {
	const body = paymentBody();
	return {
		id: `pay_${crypto.randomUUID().replaceAll("-", "")}`,
		tenant_id: tenantId,
		idempotency_key: key,
		request_hash: await sha256Hex(canonicalJson(body)),
		machine_id: "vm-001",
		amount_cents: 350,
		currency: "EUR",
		card_token: "tok_visa",
		items: JSON.stringify(body.items),
		status: "pending",
		processor_charge_id: null,
		decline_code: null,
		created_at: Date.now(),
		updated_at: Date.now(),
	};
}
