import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { sleep } from "../platform/timeout";
import { validate } from "../platform/validation";
import type { SandboxCharge } from "../../durable-objects/payments-sandbox-processor";
import { SANDBOX_TENANT_HEADER, sandboxAccess, sandboxTenant } from "./sandbox-access";

/**
 * The built-in sandbox card processor, in the manner of Stripe's test mode. Charges are created at
 * most once per Idempotency-Key; a repeat gets the recorded charge at once (no hang, no error).
 * Test tokens on the first attempt of a key: tok_visa succeeds (200); tok_declined is declined
 * (402); tok_error charges the card but answers 500; tok_timeout charges the card but answers only
 * after SANDBOX_PROCESSOR_HANG_MS — the two ambiguous failures a client must retry safely.
 * Any other token is declined as invalid. Disabled unless SANDBOX_PROCESSOR_ENABLED is "true"; when
 * enabled, only the platform itself or the admin token may call it (src/payments/sandbox-access.ts),
 * and each tenant has its own ledger (one SandboxProcessor object per tenant): charges, idempotency
 * keys and failures of one tenant are invisible to every other.
 */

const chargeBody = z
	.object({
		amount_cents: z.number().int().positive().max(100_000_000),
		currency: z.string().regex(/^[A-Z]{3}$/),
		card_token: z.string().min(1).max(255),
		description: z.string().max(500).nullable().default(null),
	})
	.strict();
const keyHeader = z.object({ "idempotency-key": z.string().min(1).max(600) });
const listQuery = z.object({
	idempotency_key: z.string().min(1).max(600).optional(),
	limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const sandboxProcessorRoutes = new Hono<AppEnv>()
	.use(sandboxAccess())
	.post("/charges", validate("header", keyHeader), validate("json", chargeBody), async (c) => {
		const key = c.req.valid("header")["idempotency-key"];
		const result = await processor(c.env, sandboxTenant(c.req.header(SANDBOX_TENANT_HEADER))).charge(
			key,
			c.req.valid("json"),
		);
		if (result.kind === "mismatch")
			throw new AppError(422, "idempotency_key_reused", "This Idempotency-Key was used with other parameters.");
		if (result.kind === "replayed") return answer(result.charge, { "Idempotent-Replayed": "true" });
		const token = result.charge.card_token;
		if (token === "tok_error")
			throw new AppError(500, "processing_error", "The sandbox processor failed after charging the card (tok_error).");
		if (token === "tok_timeout") await sleep(Number(c.env.SANDBOX_PROCESSOR_HANG_MS));
		return answer(result.charge);
	})
	.get("/charges", validate("query", listQuery), async (c) => {
		const { idempotency_key, limit } = c.req.valid("query");
		const charges = await processor(c.env, sandboxTenant(c.req.header(SANDBOX_TENANT_HEADER))).list(
			idempotency_key ?? null,
			limit,
		);
		return c.json({ charges, count: charges.length });
	});

/** One ledger per tenant: the name is the tenant id the platform (or the operator) named. */
function processor(env: Env, tenantId: string) {
	return env.SANDBOX_PROCESSOR.getByName(`tenant:${tenantId}`);
}

function answer(charge: SandboxCharge, headers: Record<string, string> = {}): Response {
	return Response.json(charge, { status: charge.status === "succeeded" ? 200 : 402, headers });
}
