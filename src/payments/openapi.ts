import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute, responseSchema } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { itemSchema } from "./domain";

/** Payments' answers as schemas and its routes' OpenAPI descriptions. */

const iso = z.iso.datetime();
const paymentSchema = z
	.object({
		payment_id: z.string(),
		status: z.enum(["pending", "succeeded", "declined"]),
		amount_cents: z.number().int(),
		currency: z.string(),
		machine_id: z.string(),
		items: z.array(itemSchema),
		processor_charge_id: z.string().nullable(),
		decline_code: z.string().nullable(),
		created_at: iso,
		updated_at: iso,
	})
	.meta({ id: "Payment" });

const payments = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Payments"], access: "device", ...doc }));

export const paymentDocs = {
	create: payments({
		summary: "Charge a card for a vending machine sale",
		description:
			"Requires an Idempotency-Key: a retry with the same key never charges twice. A declined card is an " +
			"outcome (402 `card_declined`, the payment in `details.payment`), stored and replayed like a success.",
		idempotencyRequired: true,
		ok: {
			201: {
				description: "Charged.",
				headers: { Location: { description: "The payment's URL.", schema: { type: "string" } } },
				content: { "application/json": { schema: responseSchema(paymentSchema) } },
			},
		},
		errors: [400, 402],
	}),
	list: payments({
		summary: "A machine's payments, newest first",
		ok: { 200: z.object({ payments: z.array(paymentSchema), next_cursor: z.string().nullable() }) },
	}),
	get: payments({ summary: "Read a payment", ok: { 200: paymentSchema }, errors: [404] }),
};
