import { z } from "zod";

/** The body of POST /api/v1/payments. */
export const itemSchema = z
	.object({
		slot: z.string().regex(/^[A-Za-z0-9-]{1,16}$/, "1-16 letters, digits or '-'"),
		sku: z.string().min(1).max(64),
		quantity: z.number().int().positive().max(100),
		price_cents: z.number().int().nonnegative().max(10_000_000),
	})
	.strict();

export const newPaymentSchema = z
	.object({
		machine_id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "1-64 letters, digits or . _ : -"),
		amount_cents: z.number().int().positive().max(10_000_000),
		currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code in capitals, e.g. EUR"),
		card_token: z.string().regex(/^tok_[A-Za-z0-9_]{1,100}$/, "a processor card token, e.g. tok_visa"),
		items: z.array(itemSchema).min(1).max(50),
	})
	.strict()
	.refine((p) => p.amount_cents === totalOf(p.items), {
		message: "amount_cents must equal the sum of quantity × price_cents over items",
		path: ["amount_cents"],
	});

export type NewPayment = z.output<typeof newPaymentSchema>;

export function totalOf(items: readonly { quantity: number; price_cents: number }[]): number {
	return items.reduce((sum, i) => sum + i.quantity * i.price_cents, 0);
}

/** Pagination cursor: the (created_at, id) of the last payment of a page, base64url. */
export function encodeCursor(createdAt: number, id: string): string {
	return btoa(`${createdAt}:${id}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
	try {
		const text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
		const match = /^(\d{1,16}):(pay_[0-9a-f]{32})$/.exec(text);
		return match?.[1] && match[2] ? { createdAt: Number(match[1]), id: match[2] } : null;
	} catch {
		return null;
	}
}

/** The processor-side idempotency key of a payment: our key scoped to the tenant, so tenants never collide at the processor. */
export function processorKey(tenantId: string, idempotencyKey: string): string {
	return `${tenantId}:${idempotencyKey}`;
}

/** The reconciler leaves a pending payment this long to its client's own retry before asking the processor. */
export const RECONCILE_AFTER_MS = 2 * 60_000;
/** Pending payments settled per run (oldest first), and tries before a payment is given up as `failed`. */
export const RECONCILE_BATCH = 50;
export const RECONCILE_MAX_ATTEMPTS = 8;

/**
 * Wait after the `attempts`-th unanswered try: 2, 4, 8, 16, 32, then 60 minutes. The 7 waits before
 * the 8th try sum to 182 minutes, so a payment is given up only after ~3 h of processor trouble.
 */
export function reconcileDelayMs(attempts: number): number {
	return Math.min(60, 2 ** Math.max(1, Math.min(attempts, 10))) * 60_000;
}
