import { z } from "zod";
import { attemptMessageSchema, runAttempt } from "../src/delivery/engine";
import { webhookAdapter } from "../src/webhooks/adapter";
import { fanOut, fanoutMessageSchema } from "../src/webhooks/service";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";

/**
 * Consumer of floodgate-webhooks: fan-out messages (an event → its deliveries) and attempt
 * messages (one delivery attempt, src/delivery/engine.ts). Each message is acked or retried on its
 * own; up to CONCURRENCY run at once (an attempt may wait 15 s on a slow receiver). A message that
 * throws is retried by the queue (max_retries, then floodgate-webhooks-dlq); the delivery's own
 * retries are new messages, so they never count against the queue's.
 */

const messageSchema = z.discriminatedUnion("kind", [attemptMessageSchema, fanoutMessageSchema]);
const CONCURRENCY = 8;

export async function handleWebhooksBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const pending = [...batch.messages];
	const worker = async () => {
		for (let m = pending.shift(); m !== undefined; m = pending.shift()) await handle(m, env);
	};
	await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pending.length) }, worker));
}

async function handle(message: Message, env: Env): Promise<void> {
	const parsed = messageSchema.safeParse(message.body);
	if (!parsed.success) {
		log.error("malformed webhook message dropped", { id: message.id, error: parsed.error.message });
		message.ack();
		return;
	}
	try {
		const body = parsed.data;
		if (body.kind === "fanout") await fanOut(env, body);
		else await runAttempt(env, webhookAdapter, body);
		message.ack();
	} catch (err) {
		log.error("webhook message failed, retried", { id: message.id, attempts: message.attempts, error: errorText(err) });
		message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
	}
}
