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
