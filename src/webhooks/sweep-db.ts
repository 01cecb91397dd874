import type { DeliveryRow } from "./delivery-db";

/** The stranded-delivery sweep's one statement (src/webhooks/sweeper.ts). */

export type StrandedDelivery = Pick<DeliveryRow, "id" | "tenant_id" | "attempts" | "status">;

/**
 * Unfinished deliveries nothing will pick up by itself, oldest first, at most `limit`: `pending`
 * ones untouched since `pendingBefore` whose retry, where one is scheduled, was due before it too, and
 * `delivering` ones whose lease ran out before `leaseBefore` and that were not touched since
 * `touchedBefore`. Each is touched (updated_at = now) in the same statement, so a second sweep,
 * overlapping or the next minute's, does not take it again until its grace has passed once more.
 */
export async function takeStrandedDeliveries(
	db: D1Database,
	now: number,
	cutoffs: { pendingBefore: number; leaseBefore: number; touchedBefore: number },
	limit: number,
): Promise<StrandedDelivery[]> {
	const { results } = await db
		.prepare(
			`UPDATE webhook_deliveries SET updated_at = ?1 WHERE id IN (
			   SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'delivering') AND updated_at < MAX(?2, ?4)
			     AND ((status = 'pending' AND updated_at < ?2 AND (next_attempt_at IS NULL OR next_attempt_at < ?2))
			       OR (status = 'delivering' AND lease_until < ?3 AND updated_at < ?4))
			   ORDER BY updated_at LIMIT ?5)
			 RETURNING id, tenant_id, attempts, status`,
		)
		.bind(now, cutoffs.pendingBefore, cutoffs.leaseBefore, cutoffs.touchedBefore, limit)
		.all<StrandedDelivery>();
	return results;
}

/**
 * Events whose fan-out never completed (no `fanned_out_at`) and that were stored before `before`,
 * oldest first, at most `limit`: their fan-out message was lost or is long overdue.
 */
export async function unfannedEvents(
	db: D1Database,
	before: number,
	limit: number,
): Promise<{ id: string; tenant_id: string }[]> {
	const { results } = await db
		.prepare(
			"SELECT id, tenant_id FROM webhook_events WHERE fanned_out_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?",
		)
		.bind(before, limit)
		.all<{ id: string; tenant_id: string }>();
	return results;
}

/** Records that an event's delivery rows exist and their first attempts were enqueued. */
export async function markFannedOut(db: D1Database, tenantId: string, eventId: string, now: number): Promise<void> {
	await db
		.prepare("UPDATE webhook_events SET fanned_out_at = ? WHERE tenant_id = ? AND id = ? AND fanned_out_at IS NULL")
		.bind(now, tenantId, eventId)
		.run();
}
