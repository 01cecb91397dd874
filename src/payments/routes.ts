import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import type { PaymentRow } from "./db";
import { findPayment, listMachinePayments } from "./db";
import { decodeCursor, encodeCursor, itemSchema, newPaymentSchema } from "./domain";
import { AppError, errorResponse } from "../platform/errors";
import { assertActsAs } from "../devices/middleware";
import { idempotency } from "../gateway/idempotency/middleware";
import { takePayment } from "./service";
import { validate } from "../platform/validation";
import { paymentDocs as docs } from "./openapi";

const paymentParams = z.object({
	id: z.string().regex(/^pay_[0-9a-f]{32}$/, "a payment id, pay_ followed by 32 hex characters"),
});
const listQuery = z.object({
	machine_id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
	limit: z.coerce.number().int().min(1).max(100).default(25),
	cursor: z.string().max(200).optional(),
});
const storedItems = z.array(itemSchema);

/** Vending-machine card payments: charged at most once per Idempotency-Key, kept in a D1 ledger. */
export const paymentRoutes = new Hono<AppEnv>()
	.post("/", docs.create, idempotency({ required: true }), validate("json", newPaymentSchema), async (c) => {
		const key = c.get("idempotencyKey");
		if (key === undefined) throw new Error("idempotency middleware did not set the key");
		assertActsAs(c, c.req.valid("json").machine_id);
		const { payment } = await takePayment(
			c.env,
			new URL(c.req.url).origin,
			c.get("principal").tenantId,
			key,
			c.req.valid("json"),
		);
		// A decline is an outcome, not a rejection: returned (so it is stored and replayed), not thrown.
		if (payment.status === "declined") {
			return errorResponse(
				c,
				new AppError(402, "card_declined", "The card was declined.", { payment: paymentJson(payment) }),
			);
		}
		return c.json(paymentJson(payment), 201, { Location: `/api/v1/payments/${payment.id}` });
	})
	.get("/", docs.list, validate("query", listQuery), async (c) => {
		const { machine_id, limit, cursor } = c.req.valid("query");
		assertActsAs(c, machine_id);
		const after = cursor === undefined ? null : decodeCursor(cursor);
		if (cursor !== undefined && after === null)
			throw new AppError(400, "validation_failed", "Invalid query: cursor: not a cursor from this API.", {
				fields: [{ path: "cursor", message: "not a cursor from this API" }],
			});
		const rows = await listMachinePayments(c.env.DB, c.get("principal").tenantId, machine_id, limit + 1, after);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			payments: page.map(paymentJson),
			next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
		});
	})
	.get("/:id", docs.get, validate("param", paymentParams), async (c) => {
		const payment = await findPayment(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id);
		if (!payment) throw new AppError(404, "payment_not_found", "No such payment for this tenant.");
		assertActsAs(c, payment.machine_id);
		return c.json(paymentJson(payment));
	});

function paymentJson(p: PaymentRow) {
	return {
		payment_id: p.id,
		status: p.status,
		amount_cents: p.amount_cents,
		currency: p.currency,
		machine_id: p.machine_id,
		items: storedItems.parse(JSON.parse(p.items)),
		processor_charge_id: p.processor_charge_id,
		decline_code: p.decline_code,
		created_at: new Date(p.created_at).toISOString(),
		updated_at: new Date(p.updated_at).toISOString(),
	};
}
