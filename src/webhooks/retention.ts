import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeWebhookRows } from "./delivery-db";

/**
 * Events (with their payloads), deliveries and attempts are kept WEBHOOK_RETENTION_DAYS ([vars]):
 * that long an event can be inspected, replayed or recovered. Children go before their events.
 */
export function webhookRetentionTargets(env: Env, now: number): RetentionTarget[] {
	const cutoff = expiredBefore(now, env.WEBHOOK_RETENTION_DAYS);
	const tables = ["webhook_attempts", "webhook_deliveries", "webhook_event_parts", "webhook_events"] as const;
	return tables.map((table) => ({
		name: table,
		cutoff,
		purge: (c, limit) => purgeWebhookRows(env.DB, table, c, limit),
	}));
}
