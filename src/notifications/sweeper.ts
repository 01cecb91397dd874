import type { NotificationMessage } from "./schemas";
import { toPriority } from "./service";
import { releaseStalledSends, takeStrandedDeliveries } from "./sweep-db";
import { groupForSendBatch } from "../platform/queue-limits";

/**
 * Nothing acknowledged is lost: the every-minute cron re-enqueues deliveries stored `queued` whose
 * queue message was never sent (the send after the D1 write failed: a notification's first
 * attempts, an account notice given up after two tries, a retry's next attempt) and that are past
 * due by the grace. The message is the one the consumer expects (the delivery's next attempt); the
 * attempt's compare-and-set claim (attempts, status `queued`) makes it a no-op when the original
 * message is still around, so a sweep never sends twice.
 *
 * Also a send whose consumer died between its claim and its outcome (the row stays `sending`):
 * after STALL_MS, longer than a queue consumer invocation may run (15 min of wall time), it is put
 * back to `queued` and given its next attempt's message. The provider call may have happened: the
 * providers get the same idempotency key per (notification, channel) on every attempt, and the
 * in-app inbox keeps one entry per notification, so the repeat is absorbed there.
 */

export type StrandedSweep = { requeued: number; stalled: number };

/** Deliveries re-enqueued per run at most (≤ 5 sendBatch calls; one D1 statement). */
export const SWEEP_LIMIT = 500;
/** Queued, due and untouched this long: stranded. Also how long before a swept one is taken again. */
export const GRACE_MS = 5 * 60_000;
/** `sending` and untouched this long: its consumer is gone (an invocation runs at most 15 min). */
export const STALL_MS = 20 * 60_000;

export async function sweepStrandedNotifications(
	env: Env,
	now = Date.now(),
	limit = SWEEP_LIMIT,
): Promise<StrandedSweep> {
	const cap = Math.min(limit, SWEEP_LIMIT);
	const stalled = await releaseStalledSends(env.DB, now, now - STALL_MS, cap);
	const queued = await takeStrandedDeliveries(env.DB, now, now - GRACE_MS, cap - stalled.length);
	const stranded = [...stalled, ...queued];
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
	return { requeued: stranded.length, stalled: stalled.length };
}
