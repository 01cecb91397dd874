import type { NotificationMessage } from "./schemas";
import { toPriority } from "./service";
import { takeStrandedDeliveries } from "./sweep-db";
import { groupForSendBatch } from "../platform/queue-limits";

/**
 * Nothing acknowledged is lost: the every-minute cron re-enqueues deliveries stored `queued` whose
 * queue message was never sent (the send after the D1 write failed: a notification's first
 * attempts, an account notice given up after two tries, a retry's next attempt) and that are past
 * due by the grace. The message is the one the consumer expects (the delivery's next attempt); the
 * attempt's compare-and-set claim (attempts, status `queued`) makes it a no-op when the original
 * message is still around, so a sweep never sends twice.
 */

export type StrandedSweep = { requeued: number };

/** Deliveries re-enqueued per run at most (≤ 5 sendBatch calls; one D1 statement). */
export const SWEEP_LIMIT = 500;
/** Queued, due and untouched this long: stranded. Also how long before a swept one is taken again. */
export const GRACE_MS = 5 * 60_000;

export async function sweepStrandedNotifications(
	env: Env,
	now = Date.now(),
	limit = SWEEP_LIMIT,
): Promise<StrandedSweep> {
	const stranded = await takeStrandedDeliveries(env.DB, now, now - GRACE_MS, Math.min(limit, SWEEP_LIMIT));
	const bodies: NotificationMessage[] = stranded.map((d) => ({
		kind: "attempt",
		tenant_id: d.tenant_id,
		delivery_id: d.id,
		attempt: d.attempts + 1,
		priority: toPriority(d.priority),
	}));
	// Touched before sent: a failed send leaves them for the sweep after the grace, never lost.
	for (const group of groupForSendBatch(bodies))
		await env.NOTIFICATIONS_QUEUE.sendBatch(group.map((body) => ({ body })));
	return { requeued: stranded.length };
}
