import type { PaymentRow } from "./db";
import { deferReconcile, failPayment, listPaymentsToReconcile, settlePayment } from "./db";
import { RECONCILE_AFTER_MS, RECONCILE_BATCH, RECONCILE_MAX_ATTEMPTS, reconcileDelayMs } from "./domain";
import { admitProcessorCall, reportProcessorCall } from "./breaker";
import { chargeCard } from "./processor";
import { chargeRequestFor } from "./service";
import { chunk } from "../platform/queue-limits";
import { errorText, log } from "../platform/log";

type Result = "succeeded" | "declined" | "pending" | "failed" | "skipped" | "errors";
export type ReconcileSummary = { checked: number } & Record<Result, number>;

/** Processor calls at a time: under the ~6 outbound connections a Worker invocation may hold. */
const CONCURRENCY = 5;
/**
 * A cron has no request, so no origin of its own: this one only resolves a bare-path
 * PAYMENT_PROCESSOR_URL (the sandbox) to the SELF binding, exactly as chargeCard does for requests.
 */
const PLATFORM_ORIGIN = "https://floodgate.internal";

/**
 * Settles payments that a processor timeout, network error or 5xx left `pending` (and whose client
 * never retried): for up to RECONCILE_BATCH pending payments older than RECONCILE_AFTER_MS, oldest
 * first, it re-sends the same charge under the same processor-side idempotency key — the processor
 * answers the original outcome for a known key, so the card is charged at most once — and records
 * succeeded/declined. Still unknown: the payment stays pending with a try count and a next-try time;
 * after RECONCILE_MAX_ATTEMPTS it becomes `failed` with a reason for an operator. A tenant whose
 * breaker is open is skipped (not a try).
 */
export async function reconcilePayments(env: Env, now = Date.now()): Promise<ReconcileSummary> {
	const due = await listPaymentsToReconcile(env.DB, {
		createdBefore: now - RECONCILE_AFTER_MS,
		now,
		limit: RECONCILE_BATCH,
	});
	const summary: ReconcileSummary = {
		checked: due.length,
		succeeded: 0,
		declined: 0,
		pending: 0,
		failed: 0,
		skipped: 0,
		errors: 0,
	};
	for (const group of chunk(due, CONCURRENCY)) {
		const results = await Promise.all(group.map((payment) => reconcileOne(env, payment)));
		for (const result of results) summary[result] += 1;
	}
	return summary;
}

async function reconcileOne(env: Env, payment: PaymentRow): Promise<Result> {
	try {
		const admission = await admitProcessorCall(env, payment.tenant_id);
		if (!admission.allowed) return "skipped";
		const outcome = await chargeCard(env, PLATFORM_ORIGIN, chargeRequestFor(payment));
		await reportProcessorCall(env, payment.tenant_id, { success: outcome.kind !== "failed", trial: admission.trial });
		const now = Date.now();
		if (outcome.kind === "succeeded" || outcome.kind === "declined") {
			await settlePayment(
				env.DB,
				payment.id,
				{
					status: outcome.kind,
					chargeId: outcome.chargeId,
					declineCode: outcome.kind === "declined" ? outcome.declineCode : null,
					answer: outcome.answer,
				},
				now,
			);
			log.info("payment reconciled", { payment_id: payment.id, status: outcome.kind });
			return outcome.kind;
		}
		const attempts = payment.reconcile_attempts + 1;
		if (attempts >= RECONCILE_MAX_ATTEMPTS) {
			const reason = `processor answer unknown after ${attempts} reconciler tries (last: ${outcome.reason}${outcome.status === null ? "" : ` ${outcome.status}`}); the card may have been charged: look up idempotency key ${chargeRequestFor(payment).idempotencyKey} at the processor`;
			await failPayment(env.DB, payment.id, { attempts, reason, now });
			log.error("payment reconciliation gave up", { payment_id: payment.id, tenant_id: payment.tenant_id, reason });
			return "failed";
		}
		await deferReconcile(env.DB, payment.id, { attempts, nextAt: now + reconcileDelayMs(attempts), now });
		return "pending";
	} catch (err) {
		log.error("payment reconciliation failed", { payment_id: payment.id, error: errorText(err) });
		return "errors";
	}
}
