import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeExpiredSandboxMessages } from "../email/sandbox-db";
import { purgeExpiredDeliveries } from "./ledger-db";

/**
 * EMAIL_RETENTION_DAYS: the sandbox's record and settled ledger rows (pending rows are never
 * removed: nothing acknowledged is lost). Campaign counters keep the totals after their rows go.
 */
export function campaignRetentionTargets(env: Env, now: number): RetentionTarget[] {
	const cutoff = expiredBefore(now, env.EMAIL_RETENTION_DAYS);
	return [
		{ name: "email_deliveries", cutoff, purge: (c, limit) => purgeExpiredDeliveries(env.DB, c, limit) },
		{ name: "email_sandbox_messages", cutoff, purge: (c, limit) => purgeExpiredSandboxMessages(env.DB, c, limit) },
	];
}
