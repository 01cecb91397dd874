import type { DeadLetter } from "../src/platform/dead-letters-db";
import { insertDeadLetters } from "../src/platform/dead-letters-db";
import { newId } from "../src/platform/crypto";
import { errorText, log } from "../src/platform/log";
import { telemetryRetryDelaySeconds } from "../src/platform/queue-limits";
import { telemetryMessageSchema, updateCount } from "../src/telemetry/domain";
import { idOf } from "../src/telemetry/consume";

type Item = { msg: Message; letter: DeadLetter };

/**
 * Consumer of floodgate-telemetry-dlq: keeps every dead message in D1 (one row per producer id)
 * for GET /api/v1/dead-letters and replay. Bodies that do not parse are kept as they are.
 * A message is acked only after its row committed; a failed write retries it with the telemetry
 * backoff (up to 15 minutes, 100 retries ≈ 23 h), because past this queue the data is gone.
 */
export async function handleTelemetryDlqBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const now = Date.now();
	const items: Item[] = batch.messages.map((msg) => ({ msg, letter: deadLetterOf(msg, now) }));
	if (items.length === 0) return;
	try {
		await insertDeadLetters(
			env.DB,
			items.map((i) => i.letter),
		);
		// Every letter of the batch committed in one transaction.
		batch.ackAll();
		return;
	} catch (err) {
		log.error("storing dead letters failed; storing them one by one", { count: items.length, error: errorText(err) });
	}
	// One by one, so that a letter that cannot be stored does not hold back the others.
	for (const { msg, letter } of items) {
		try {
			await insertDeadLetters(env.DB, [letter]);
			msg.ack();
		} catch (err) {
			const delaySeconds = telemetryRetryDelaySeconds(msg.attempts);
			log.error("storing a dead letter failed; retrying it", {
				message_id: letter.messageId,
				attempts: msg.attempts,
				delay_seconds: delaySeconds,
				error: errorText(err),
			});
			msg.retry({ delaySeconds });
		}
	}
}

function deadLetterOf(msg: Message, now: number): DeadLetter {
	const parsed = telemetryMessageSchema.safeParse(msg.body);
	return {
		id: newId("dl"),
		messageId: idOf(msg),
		tenantId: parsed.success ? parsed.data.tenant_id : null,
		kind: parsed.success ? parsed.data.kind : null,
		body: JSON.stringify(msg.body) ?? "null",
		updateCount: parsed.success ? updateCount(parsed.data) : 0,
		reason: parsed.success ? "retries_exhausted" : "retries_exhausted: body is not a valid telemetry message",
		// The main queue's deliveries are not visible here; max_retries + 1 is what it took.
		attempts: msg.attempts,
		createdAt: now,
	};
}
