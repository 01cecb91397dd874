import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { writeMessage } from "../src/metrics/db";
import { metricsMessageSchema } from "../src/metrics/domain";
import { rollUp, ROLLUP_RESOLUTIONS } from "../src/metrics/rollup";

/**
 * Consumer of floodgate-metrics: each message's raw samples and rollups in one D1 transaction
 * (idempotent: see writeMessage), acked once committed, retried with backoff on its own if not.
 * A message that fails validation cannot succeed later: it is retried until max_retries sends it
 * to floodgate-metrics-dlq, whose consumer stores it (never acked unstored).
 */
export async function handleMetricsBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = metricsMessageSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid metrics message left for the dead-letter queue", {
				message_id: msg.id,
				attempts: msg.attempts,
			});
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		const rollups = ROLLUP_RESOLUTIONS.flatMap((resolution) => rollUp(parsed.data.samples, resolution));
		try {
			await writeMessage(env.DB, parsed.data, rollups);
			msg.ack();
		} catch (err) {
			const delaySeconds = retryDelaySeconds(msg.attempts);
			log.error("metrics message write failed", {
				message_id: parsed.data.id,
				attempts: msg.attempts,
				delay_seconds: delaySeconds,
				error: errorText(err),
			});
			msg.retry({ delaySeconds });
		}
	}
}
