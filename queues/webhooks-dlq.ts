import { attemptMessageSchema } from "../src/delivery/engine";
import { markDeliveryDead } from "../src/webhooks/adapter";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";

/**
 * Consumer of floodgate-webhooks-dlq: an attempt message whose processing kept throwing (not a
 * receiver's failure: those are retried by the engine) marks its delivery dead with the reason, so
 * it shows in the event's status and `recover` can re-send it. A fan-out message is logged (its
 * event stays stored; replay it). Acked once stored.
 */
export async function handleWebhooksDeadLetterBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	for (const m of batch.messages) {
		const attempt = attemptMessageSchema.safeParse(m.body);
		try {
			if (attempt.success) await markDeliveryDead(env, attempt.data, `processing failed ${m.attempts} times`);
			else log.error("webhook message dead-lettered", { id: m.id, body: JSON.stringify(m.body ?? null).slice(0, 500) });
			m.ack();
		} catch (err) {
			log.error("webhook dead letter not stored, retried", { id: m.id, error: errorText(err) });
			m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
		}
	}
}
