import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { continueChain } from "../src/campaigns/service";
import { runTick, tickSchema } from "../src/campaigns/sender";

/**
 * Consumer of floodgate-email: each message is one tick of one of a campaign's send chains. A tick
 * sends what its time budget allows, enqueues its successor and only then acks; a failure is
 * retried on its own with backoff (the redelivered tick re-claims the rows it held, and their
 * provider idempotency keys make the resend harmless). Messages that fail validation go to the DLQ.
 * The ticks of a batch run side by side (a campaign's chains progress together), each with its
 * share of the invocation's D1 query budget.
 */
export async function handleEmailBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const share = 1 / Math.max(1, batch.messages.length);
	await Promise.all(batch.messages.map((msg) => handleTick(msg, env, share)));
}

async function handleTick(msg: Message, env: Env, share: number): Promise<void> {
	const parsed = tickSchema.safeParse(msg.body);
	if (!parsed.success) {
		log.error("invalid email tick left for the dead-letter queue", { message_id: msg.id, attempts: msg.attempts });
		msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		return;
	}
	try {
		await continueChain(env, parsed.data, await runTick(env, parsed.data, {}, share));
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
