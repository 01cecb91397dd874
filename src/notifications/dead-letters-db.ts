import type { DeliveryRow } from "./db";

/** Notifications' dead letters: the failed deliveries of a tenant (the only SQL listing and reviving them). */

/** Failed deliveries, most recently failed first, after the cursor (updated_at, id). */
export async function listFailedDeliveries(
	db: D1Database,
	tenantId: string,
	before: { updatedAt: number; id: string } | null,
	limit: number,
): Promise<DeliveryRow[]> {
	const { results } = await db
		.prepare(
			`SELECT * FROM notification_deliveries WHERE tenant_id = ?1 AND status = 'failed'
			   AND (?2 IS NULL OR updated_at < ?2 OR (updated_at = ?2 AND id < ?3))
			 ORDER BY updated_at DESC, id DESC LIMIT ?4`,
		)
		.bind(tenantId, before?.updatedAt ?? null, before?.id ?? "", limit)
		.all<DeliveryRow>();
	return results;
}

/**
 * Compare-and-set failed → queued with its attempts reset (a replay starts afresh, like a job's
 * redrive); false when the delivery is not (or no longer) failed.
 */
export async function reviveDelivery(db: D1Database, tenantId: string, id: string, now: number): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE notification_deliveries SET status = 'queued', attempts = 0, deliver_at = ?1, updated_at = ?1,
			   reason = 'replayed from the dead letters', last_error = NULL
			 WHERE tenant_id = ?2 AND id = ?3 AND status = 'failed'`,
		)
		.bind(now, tenantId, id)
		.run();
	return result.meta.changes > 0;
}

/** Undoes a revive whose enqueue failed, so the delivery stays listed as a dead letter. */
export async function unreviveDelivery(
	db: D1Database,
	tenantId: string,
	id: string,
	reason: string,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE notification_deliveries SET status = 'failed', reason = ?, updated_at = ?
			 WHERE tenant_id = ? AND id = ? AND status = 'queued' AND attempts = 0`,
		)
		.bind(reason, now, tenantId, id)
		.run();
}
