import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { clickMessageSchema } from "../src/shortener/clicks";
import { countClickMessage } from "../src/shortener/clicks-db";
import { clickDeadLetters } from "../src/shortener/dead-letters";
import { insertDeadLetters } from "../src/platform/dead-letters-db";

/**
 * Consumer of floodgate-clicks: each message is one redirect isolate's aggregated clicks (<= 200
 * entries). Counted in one D1 transaction, idempotent by the message's id (a redelivery counts
 * nothing; see countClickMessage). Each message is acked or retried on its own; an invalid one is
 * retried into floodgate-clicks-dlq.
 */
export async function handleClicksBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = clickMessageSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid click message left for the dead-letter queue", { message_id: msg.id, attempts: msg.attempts });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		try {
			const counted = await countClickMessage(env.DB, parsed.data, crypto.randomUUID(), Date.now());
			if (!counted) log.info("click message already counted", { id: parsed.data.id });
			msg.ack();
		} catch (err) {
			log.error("click count failed", { id: parsed.data.id, attempts: msg.attempts, error: errorText(err) });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		}
	}
}

/**
 * floodgate-clicks-dlq: each dead message is kept in `dead_letters` (queue floodgate-clicks), split
 * into one row per tenant whose links it counted, for GET /api/v1/shortener/dead-letters and its
 * replay. Acked once stored, else retried.
 */
export async function handleClicksDeadLetterBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	const now = Date.now();
	for (const msg of batch.messages) {
		try {
			const letters = await clickDeadLetters(env.DB, msg.body, msg.id, msg.attempts, now);
			await insertDeadLetters(env.DB, letters);
			log.error("click message dead-lettered", { message_id: msg.id, attempts: msg.attempts, rows: letters.length });
			msg.ack();
		} catch (err) {
			log.error("click dead letter not stored, retried", { message_id: msg.id, error: errorText(err) });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		}
	}
}
