import { newId } from "../src/platform/crypto";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { insertMetricDeadLetters } from "../src/metrics/db";

/**
 * Consumer of floodgate-metrics-dlq: messages that kept failing are stored in D1
 * (metric_dead_letters, kept DEAD_LETTER_RETENTION_DAYS) and acked only once stored.
 */
export async function handleMetricsDeadLetterBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	try {
		await insertMetricDeadLetters(
			env.DB,
			batch.queue,
			batch.messages.map((m) => ({
				id: newId("mdl"),
				messageId: m.id,
				body: JSON.stringify(m.body ?? null),
				attempts: m.attempts,
			})),
			Date.now(),
		);
		for (const m of batch.messages) m.ack();
	} catch (err) {
		log.error("storing metrics dead letters failed", { queue: batch.queue, error: errorText(err) });
		for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
	}
}
