import type { PaymentRow } from "./db";
import { claimPayment, findPayment, settlePayment } from "./db";
import { canonicalJson, retryAfterSeconds } from "../gateway/idempotency/domain";
import { sha256Hex } from "../platform/crypto";
import type { NewPayment } from "./domain";
import { processorKey } from "./domain";
import { AppError } from "../platform/errors";
import { admitProcessorCall, reportProcessorCall } from "./breaker";
import type { ChargeRequest } from "./processor";
import { chargeCard } from "./processor";
import { publishEvent } from "../webhooks/service";

export type PaymentResult = { payment: PaymentRow; replayedFromLedger: boolean };

/**
 * Takes one payment under an idempotency key the caller already holds. The ledger row is claimed
 * first (unique per tenant and key), so whatever happens next a retry finds the same payment and
 * sends the processor the same key. Processor trouble leaves the payment pending and throws a 5xx
 * (the key is released); the retry settles it — at most one charge, whatever the number of tries.
 */
export async function takePayment(
	env: Env,
	ownOrigin: string,
	tenantId: string,
	idempotencyKey: string,
	input: NewPayment,
): Promise<PaymentResult> {
	const now = Date.now();
	const requestHash = await sha256Hex(canonicalJson(input));
	const payment = await claimPayment(env.DB, {
		id: `pay_${crypto.randomUUID().replaceAll("-", "")}`,
		tenant_id: tenantId,
		idempotency_key: idempotencyKey,
		request_hash: requestHash,
		machine_id: input.machine_id,
		amount_cents: input.amount_cents,
		currency: input.currency,
		card_token: input.card_token,
		items: JSON.stringify(input.items),
		status: "pending",
		processor_charge_id: null,
		decline_code: null,
		created_at: now,
		updated_at: now,
	});
	if (payment.request_hash !== requestHash) {
		// The other payment's id only for the same machine: a device may not learn another's payments.
		throw new AppError(
			422,
			"idempotency_key_reused",
			"This Idempotency-Key was already used for a different payment.",
			payment.machine_id === input.machine_id ? { payment_id: payment.id } : undefined,
		);
	}
	if (payment.status === "failed") {
		// The reconciler gave up on the processor's answer; an operator settles it, not a retry.
		throw new AppError(
			502,
			"payment_unresolved",
			"The card processor's answer for this payment stayed unknown; an operator is resolving it.",
			{ payment_id: payment.id },
		);
	}
	if (payment.status !== "pending") return { payment, replayedFromLedger: true };

	const admission = await admitProcessorCall(env, tenantId);
	if (!admission.allowed) {
		const retryAfter = retryAfterSeconds(admission.retryAfterMs);
		throw new AppError(
			503,
			"payment_processor_unavailable",
			"The card processor is failing; payments are paused. Retry later with the same Idempotency-Key.",
			{ retry_after: retryAfter },
			{ "Retry-After": String(retryAfter) },
		);
	}
	const outcome = await chargeCard(env, ownOrigin, chargeRequestFor(payment));
	await reportProcessorCall(env, tenantId, { success: outcome.kind !== "failed", trial: admission.trial });
	if (outcome.kind === "failed") {
		const timeout = outcome.reason === "timeout";
		throw new AppError(
			timeout ? 504 : 502,
			timeout ? "payment_processor_timeout" : "payment_processor_error",
			"The card processor did not confirm the charge. Retry with the same Idempotency-Key: the card is charged at most once.",
			{ payment_id: payment.id, reason: outcome.reason },
		);
	}
	const settled = await settlePayment(
		env.DB,
		payment.id,
		outcome.kind === "succeeded"
			? { status: "succeeded", chargeId: outcome.chargeId, declineCode: null, answer: outcome.answer }
			: { status: "declined", chargeId: outcome.chargeId, declineCode: outcome.declineCode, answer: outcome.answer },
		Date.now(),
	);
	// null: a concurrent taker (after a lock takeover) settled it first, with the same processor charge.
	if (settled) {
		// payment.succeeded / payment.failed webhooks, once, by whoever settled it (never throws).
		await publishEvent(env, tenantId, settled.status === "succeeded" ? "payment.succeeded" : "payment.failed", {
			payment_id: settled.id,
			machine_id: settled.machine_id,
			status: settled.status,
			decline_code: settled.decline_code,
		});
	}
	return {
		payment: settled ?? (await findPayment(env.DB, tenantId, payment.id)) ?? payment,
		replayedFromLedger: settled === null,
	};
}

/** The processor request of a payment, the same on every try (the processor compares them under one key). */
export function chargeRequestFor(payment: PaymentRow): ChargeRequest {
	return {
		tenantId: payment.tenant_id,
		idempotencyKey: processorKey(payment.tenant_id, payment.idempotency_key),
		amountCents: payment.amount_cents,
		currency: payment.currency,
		cardToken: payment.card_token,
		description: `vending machine ${payment.machine_id}`,
	};
}
