import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeExpiredProcessorAnswers } from "./db";

/** Raw processor answers are kept PAYMENT_RAW_RETENTION_DAYS; the ledger rows themselves are kept. */
export function paymentRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "payments.processor_answer",
			cutoff: expiredBefore(now, env.PAYMENT_RAW_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeExpiredProcessorAnswers(env.DB, cutoff, limit),
		},
	];
}
