import { notificationMessageSchema } from "../src/notifications/schemas";
import { markDeliveryFailed } from "../src/notifications/adapter";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";

/**
 * Consumer of floodgate-notifications-dlq: an attempt message whose processing kept throwing (not
 * a provider's failure: those are retried by the engine) marks its channel failed with the reason,
 * shown by GET /api/v1/notifications/{id} and replayable from /dead-letters. A `digest` message
 * is only logged: the digest stays unsent and the cron puts it on the queue again 5 minutes later.
 * Acked once stored.
 */
export async function handleNotificationsDeadLetterBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	for (const m of batch.messages) {
		const attempt = notificationMessageSchema.safeParse(m.body);
		try {
			if (attempt.success) await markDeliveryFailed(env, attempt.data, `processing failed ${m.attempts} times`);
			else
				log.error("notification message dead-lettered", {
					id: m.id,
					body: JSON.stringify(m.body ?? null).slice(0, 500),
				});
			m.ack();
		} catch (err) {
			log.error("notification dead letter not stored, retried", { id: m.id, error: errorText(err) });
			m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
		}
	}
}
