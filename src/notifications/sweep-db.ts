import type { DeliveryRow } from "./db";

/** The stranded-delivery sweep's one statement (src/notifications/sweeper.ts). */

export type StrandedDelivery = Pick<DeliveryRow, "id" | "tenant_id" | "attempts" | "priority">;

/**
 * Deliveries `queued` whose time to go (deliver_at: deliver_after, the end of quiet hours, a
 * retry's backoff) was before `before` and that were not touched since `before`, earliest first,
 * at most `limit`. A digested, suppressed or throttled delivery is not `queued`; one due later is
 * not taken. Each is touched (updated_at = now) in the same statement, so a second sweep does not
 * take it again until the grace has passed once more.
 */
export async function takeStrandedDeliveries(
	db: D1Database,
	now: number,
	before: number,
	limit: number,
): Promise<StrandedDelivery[]> {
	const { results } = await db
		.prepare(
			`UPDATE notification_deliveries SET updated_at = ?1 WHERE id IN (
			   SELECT id FROM notification_deliveries WHERE status = 'queued' AND deliver_at < ?2 AND updated_at < ?2
			   ORDER BY deliver_at LIMIT ?3)
			 RETURNING id, tenant_id, attempts, priority`,
		)
		.bind(now, before, limit)
		.all<StrandedDelivery>();
	return results;
}

/**
 * Deliveries left `sending` since before `before` (their consumer died between the claim and the
 * outcome), oldest first, at most `limit`: put back to `queued` and touched in one statement, so
 * the next attempt's message can claim them.
 */
export async function releaseStalledSends(
	db: D1Database,
	now: number,
	before: number,
	limit: number,
): Promise<StrandedDelivery[]> {
	const { results } = await db
		.prepare(
			`UPDATE notification_deliveries SET status = 'queued', updated_at = ?1 WHERE id IN (
			   SELECT id FROM notification_deliveries WHERE status = 'sending' AND updated_at < ?2
			   ORDER BY updated_at LIMIT ?3)
			 RETURNING id, tenant_id, attempts, priority`,
		)
		.bind(now, before, limit)
		.all<StrandedDelivery>();
	return results;
}
