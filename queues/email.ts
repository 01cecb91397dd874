import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { continueChain } from "../src/campaigns/service";
import { runTick, tickSchema } from "../src/campaigns/sender";

/**
 * Consumer of floodgate-email: each message is one tick of one campaign's chain. A tick sends what
 * its time budget allows, enqueues its successor and only then acks; a failure is retried on its
 * own with backoff (the redelivered tick re-claims the rows it held, and their provider
 * idempotency keys make the resend harmless). Messages that fail validation go to the DLQ.
 */
export async function handleEmailBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = tickSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid email tick left for the dead-letter queue", { message_id: msg.id, attempts: msg.attempts });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		try {
			await continueChain(env, parsed.data, await runTick(env, parsed.data));
			msg.ack();
		} catch (err) {
			const delaySeconds = retryDelaySeconds(msg.attempts);
			log.error("email tick failed", {
				campaign_id: parsed.data.campaign_id,
				attempts: msg.attempts,
				delay_seconds: delaySeconds,
				error: errorText(err),
			});
			msg.retry({ delaySeconds });
		}
	}
}
