import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import type { PaymentRow } from "../../../src/payments/db";
import { claimPayment, findPayment } from "../../../src/payments/db";
import { RECONCILE_MAX_ATTEMPTS } from "../../../src/payments/domain";
import { reconcilePayments } from "../../../src/payments/reconciler";
import { canonicalJson } from "../../../src/gateway/idempotency/domain";
import { sha256Hex } from "../../../src/platform/crypto";
import { createTenant, json } from "../helpers";
import { pay, paymentBody, processorCharges, uniqueKey } from "./payment-helpers";

const MINUTE = 60_000;

/** Makes a payment look `minutes` older, past the reconciler's wait for the client's own retry. */
async function age(paymentId: string, minutes: number): Promise<void> {
	await env.DB.prepare("UPDATE payments SET created_at = created_at - ? WHERE id = ?")
		.bind(minutes * MINUTE, paymentId)
		.run();
}

/** A payment whose request died after claiming the ledger row, before the processor was called. */
async function abandonedPayment(tenantId: string, token: string): Promise<{ id: string; key: string }> {
	const key = uniqueKey("abandoned");
	const body = paymentBody(token);
	const now = Date.now();
	const row = await claimPayment(env.DB, {
		id: `pay_${crypto.randomUUID().replaceAll("-", "")}`,
		tenant_id: tenantId,
		idempotency_key: key,
		request_hash: await sha256Hex(canonicalJson(body)),
		machine_id: "vm-001",
		amount_cents: 350,
		currency: "EUR",
		card_token: token,
		items: JSON.stringify(body.items),
		status: "pending",
		processor_charge_id: null,
		decline_code: null,
		created_at: now,
		updated_at: now,
	});
	await age(row.id, 3);
	return { id: row.id, key };
}

async function paymentRow(tenantId: string, id: string): Promise<PaymentRow> {
	const found = await findPayment(env.DB, tenantId, id);
	if (!found) throw new Error(`payment ${id} not found`);
	return found;
}

describe("the payment reconciler", () => {
	it("settles a payment a processor timeout left pending, from the every-minute cron, charging once", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("timeout");
		const first = await pay(apiKey, key, paymentBody("tok_timeout"));
		expect(first.status).toBe(504);
		const paymentId = String(((await json(first)).error as { details: Record<string, unknown> }).details.payment_id);
		expect(await paymentRow(tenantId, paymentId)).toMatchObject({ status: "pending" });

		// Younger than the wait for the client's own retry: left alone.
		expect((await reconcilePayments(env)).checked).toBe(0);
		await age(paymentId, 3);
		const ctx = createExecutionContext();
		await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);

		const settled = await paymentRow(tenantId, paymentId);
		expect(settled).toMatchObject({ status: "succeeded", decline_code: null });
		expect(JSON.parse(String(settled.processor_answer))).toMatchObject({ id: settled.processor_charge_id });
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({ id: settled.processor_charge_id, status: "succeeded", attempts: 2 });
		// Settled payments are not looked at again.
		expect((await reconcilePayments(env, Date.now() + 10 * MINUTE)).checked).toBe(0);
	});

	it("records a decline as declined", async () => {
		const { tenantId } = await createTenant();
		const { id, key } = await abandonedPayment(tenantId, "tok_declined");
		const summary = await reconcilePayments(env);
		expect(summary).toMatchObject({ checked: 1, declined: 1 });
		expect(await paymentRow(tenantId, id)).toMatchObject({ status: "declined", decline_code: "card_declined" });
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]).toMatchObject({ status: "declined" });
	});

	it("keeps an unanswerable payment pending with a try count and next try, then fails it for an operator", async () => {
		const { tenantId, apiKey } = await createTenant();
		const { id, key } = await abandonedPayment(tenantId, "tok_visa");
		// A processor that never gives a usable answer (our own 404), and a breaker that never opens.
		// (Widened to string: Env's vars are typed as wrangler.toml's literal values.)
		const broken = {
			...env,
			PAYMENT_PROCESSOR_URL: "/api/v1/nowhere" as string,
			BREAKER_FAILURE_THRESHOLD: "1000" as string,
		} as Env;

		const before = Date.now();
		expect(await reconcilePayments(broken)).toMatchObject({ checked: 1, pending: 1 });
		const once = await paymentRow(tenantId, id);
		expect(once).toMatchObject({ status: "pending", reconcile_attempts: 1 });
		expect(once.next_reconcile_at).toBeGreaterThanOrEqual(before + 2 * MINUTE);
		// Not due yet: not tried again.
		expect((await reconcilePayments(broken)).checked).toBe(0);

		let now = Date.now();
		for (let attempt = 2; attempt < RECONCILE_MAX_ATTEMPTS; attempt++) {
			now += 2 * 60 * MINUTE;
			expect(await reconcilePayments(broken, now)).toMatchObject({ pending: 1 });
			const current = await paymentRow(tenantId, id);
			expect(current.reconcile_attempts).toBe(attempt);
		}
		now += 2 * 60 * MINUTE;
		expect(await reconcilePayments(broken, now)).toMatchObject({ failed: 1 });
		const failed = await paymentRow(tenantId, id);
		expect(failed).toMatchObject({ status: "failed", reconcile_attempts: RECONCILE_MAX_ATTEMPTS });
		expect(failed.failure_reason).toContain(`${tenantId}:${key}`);
		expect(await processorCharges(tenantId, key)).toEqual([]);

		// The client's late retry is told it is unresolved, not charged.
		const retry = await pay(apiKey, key, paymentBody("tok_visa"));
		expect(retry.status).toBe(502);
		expect(await json(retry)).toMatchObject({ error: { code: "payment_unresolved" } });
		expect(await processorCharges(tenantId, key)).toEqual([]);
	});
});
