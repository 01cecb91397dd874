import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeNotificationRows } from "./db";

/**
 * Notifications, their per-channel deliveries and sandbox SMS are kept NOTIFICATIONS_RETENTION_DAYS
 * ([vars]). Deliveries go before their notifications. Inboxes keep their newest 1,000 items.
 */
export function notificationRetentionTargets(env: Env, now: number): RetentionTarget[] {
	const cutoff = expiredBefore(now, env.NOTIFICATIONS_RETENTION_DAYS);
	const tables = [
		"notification_push_sent",
		"notification_deliveries",
		"notifications",
		"notification_sms_sandbox",
		"notification_digests",
	] as const;
	return tables.map((table) => ({
		name: table,
		cutoff,
		purge: (c, limit) => purgeNotificationRows(env.DB, table, c, limit),
	}));
}
