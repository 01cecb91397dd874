import type { AttemptMessage } from "../delivery/engine";
import { sendMessages } from "./service";
import { takeStrandedDeliveries, unfannedEvents } from "./sweep-db";

/**
 * Nothing acknowledged is lost: the every-minute cron re-enqueues deliveries whose queue message is
 * gone. Two ways a delivery is stranded: a consumer crashed mid-batch after claiming it (the row
 * stays `delivering`; the queue may redeliver the message before the lease ran out, where it is
 * stale and acked), or a send failed after the row was stored (a fan-out's first attempts, a
 * retry's next attempt after the batch's writes: the row is `pending` and due, with no message).
 * The message is the one the consumer expects (the delivery's next attempt); its compare-and-set
 * claim makes it a no-op when the original message is still around, so a sweep never sends twice.
 */

export type StrandedSweep = { requeued: number; pending: number; delivering: number; events: number };

/** Events whose fan-out is re-enqueued per run at most (one sendBatch). */
export const EVENT_SWEEP_LIMIT = 100;

/** Deliveries re-enqueued per run at most (≤ 5 sendBatch calls; one D1 statement). */
export const SWEEP_LIMIT = 500;
/** A pending delivery untouched (and due) this long is stranded; also how long before a swept one is taken again. */
export const PENDING_GRACE_MS = 5 * 60_000;
/** A `delivering` delivery whose lease ran out this long ago is stranded. */
export const LEASE_GRACE_MS = 60_000;

export async function sweepStrandedDeliveries(env: Env, now = Date.now(), limit = SWEEP_LIMIT): Promise<StrandedSweep> {
	const stranded = await takeStrandedDeliveries(
		env.DB,
		now,
		{
			pendingBefore: now - PENDING_GRACE_MS,
			leaseBefore: now - LEASE_GRACE_MS,
			// A claim's lease runs LEASE_MS (60 s) or more past its updated_at, so a first sweep is never held back.
			touchedBefore: now - 2 * LEASE_GRACE_MS,
		},
		Math.min(limit, SWEEP_LIMIT),
	);
	const messages: AttemptMessage[] = stranded.map((d) => ({
		kind: "attempt",
		tenant_id: d.tenant_id,
		delivery_id: d.id,
		attempt: d.attempts + 1,
	}));
	// Touched before sent: a failed send leaves them for the sweep after the grace, never lost.
	await sendMessages(env, messages);
	const delivering = stranded.filter((d) => d.status === "delivering").length;
	// Events stored whose fan-out message never came (a platform event's send failed after the
	// insert): fan-out is idempotent (deterministic delivery ids; only unsent first attempts are
	// sent), so re-enqueueing one still in the queue only costs its reads.
	const events = await unfannedEvents(env.DB, now - PENDING_GRACE_MS, EVENT_SWEEP_LIMIT);
	await sendMessages(
		env,
		events.map((e) => ({ kind: "fanout" as const, tenant_id: e.tenant_id, event_id: e.id })),
	);
	return { requeued: stranded.length, pending: stranded.length - delivering, delivering, events: events.length };
}
