import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PaymentRow } from "../../../src/payments/db";
import { newPaymentSchema } from "../../../src/payments/domain";
import { takePayment } from "../../../src/payments/service";
import { currentHome } from "../../../src/gateway/idempotency/store";
import { BASE, call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { pay, paymentBody, processorCharges, uniqueKey } from "./payment-helpers";

/**
 * A payment taken under `key` whose idempotency record no longer exists (its retention ran out, or
 * it was lost): the payment service runs directly, with the real ledger and processor, and no key record.
 */
async function payWithoutKeyRecord(tenantId: string, key: string, body: Json): Promise<PaymentRow> {
	const { payment } = await takePayment(env, new URL(BASE).origin, tenantId, key, newPaymentSchema.parse(body));
	expect(await currentHome(env, tenantId, `${tenantId}:${key}`).inspect()).toBeNull();
	return payment;
}

describe("payments ledger", () => {
	it("refuses a second row for the same tenant and idempotency key (the D1 unique constraint)", async () => {
		const { tenantId, apiKey } = await createTenant();
		const res = await pay(apiKey, "ledger-1", paymentBody());
		expect(res.status).toBe(201);
		const insert = env.DB.prepare(
			"INSERT INTO payments (id, tenant_id, idempotency_key, request_hash, machine_id, amount_cents, currency, card_token, items, status, created_at, updated_at) VALUES (?, ?, 'ledger-1', 'h', 'vm', 1, 'EUR', 'tok_visa', '[]', 'pending', 0, 0)",
		);
		await expect(insert.bind(`pay_${"0".repeat(32)}`, tenantId).run()).rejects.toThrow(/UNIQUE constraint failed/);
		const other = await createTenant("other");
		await expect(insert.bind(`pay_${"1".repeat(32)}`, other.tenantId).run()).resolves.toBeTruthy();
	});

	it("still never pays twice when the key's record is gone: the ledger answers the repeat", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("ledger");
		// The first payment went through; its key record has since expired.
		const first = await payWithoutKeyRecord(tenantId, key, paymentBody());
		expect(first.status).toBe("succeeded");
		const again = await pay(apiKey, key, paymentBody());
		expect(again.status).toBe(201);
		expect(await json(again)).toMatchObject({ payment_id: first.id, status: "succeeded" });
		const charges = await processorCharges(tenantId, key);
		expect(charges).toHaveLength(1);
		expect(charges[0]?.attempts).toBe(1);
		const count = await env.DB.prepare("SELECT count(*) AS n FROM payments WHERE tenant_id = ?")
			.bind(tenantId)
			.first<{ n: number }>();
		expect(count?.n).toBe(1);
	});

	it("answers 422 from the ledger for an old key reused with another payment", async () => {
		const { tenantId, apiKey } = await createTenant();
		const key = uniqueKey("ledger-reuse");
		await payWithoutKeyRecord(tenantId, key, paymentBody());
		const other = await pay(apiKey, key, paymentBody("tok_visa", "vm-002"));
		expect(other.status).toBe(422);
		expect(await json(other)).toMatchObject({ error: { code: "idempotency_key_reused" } });
	});

	it("lists a machine's payments newest first, page by page with a cursor", async () => {
		const { apiKey } = await createTenant();
		const ids: string[] = [];
		for (let i = 0; i < 5; i++)
			ids.push(String((await json(await pay(apiKey, `list-${i}`, paymentBody("tok_visa", "vm-list")))).payment_id));
		await pay(apiKey, "list-other", paymentBody("tok_visa", "vm-elsewhere"));
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const res = await call("GET", `/api/v1/payments?machine_id=vm-list&limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
				token: apiKey,
			});
			expect(res.status).toBe(200);
			const page = await json(res);
			seen.push(...(page.payments as Json[]).map((p) => String(p.payment_id)));
			cursor = page.next_cursor as string | null;
		} while (cursor);
		expect(seen).toEqual(ids.toReversed());
		expect((await call("GET", "/api/v1/payments?machine_id=vm-list&cursor=nonsense", { token: apiKey })).status).toBe(
			400,
		);
		expect((await call("GET", "/api/v1/payments", { token: apiKey })).status).toBe(400);
	});

	it("validates the payment body: amount must match the items", async () => {
		const { apiKey } = await createTenant();
		const res = await pay(apiKey, "bad", { ...paymentBody(), items: [] });
		expect(res.status).toBe(400);
		expect(await json(res)).toMatchObject({ error: { code: "validation_failed" } });
	});
});
