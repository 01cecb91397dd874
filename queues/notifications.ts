import { runAttempt } from "../src/delivery/engine";
import { runPooled } from "../src/delivery/pool";
import { notificationAdapter } from "../src/notifications/adapter";
import { flushDigestMessage } from "../src/notifications/digest";
import { weightedOrder } from "../src/notifications/domain";
import type { DigestMessage, NotificationMessage } from "../src/notifications/schemas";
import { notificationQueueMessageSchema } from "../src/notifications/schemas";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";

/**
 * Consumer of floodgate-notifications: one attempt per message (src/delivery/engine.ts with the
 * notifications adapter), and the `digest` messages the cron sends for digests whose window ended
 * (src/notifications/digest.ts; idempotent). A batch is served in weighted priority order
 * (critical, high, normal, low: 8/4/2/1 of every 15), so a backlog goes by priority without
 * starving the low ones, 6 at a time (src/delivery/pool.ts: Workers' simultaneous outbound
 * connections per invocation; a seventh would wait inside the runtime while its deadline ran).
 * Each message is acked or retried on its own; a message that throws is retried by the queue
 * (max_retries, then floodgate-notifications-dlq); a channel's own retries are new messages.
 */

type Body = NotificationMessage | DigestMessage;

export async function handleNotificationsBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const parsed: { message: Message; body: Body }[] = [];
	for (const message of batch.messages) {
		const result = notificationQueueMessageSchema.safeParse(message.body);
		if (result.success) parsed.push({ message, body: result.data });
		else {
			log.error("malformed notification message dropped", { id: message.id, error: result.error.message });
			message.ack();
		}
	}
	await runPooled(
		weightedOrder(parsed, (p) => p.body.priority),
		(p) => handle(p.message, p.body, env),
	);
}

async function handle(message: Message, body: Body, env: Env): Promise<void> {
	try {
		if (body.kind === "digest") await flushDigestMessage(env, body);
		else await runAttempt(env, notificationAdapter, body);
		message.ack();
	} catch (err) {
		log.error("notification message failed, retried", {
			id: message.id,
			attempts: message.attempts,
			error: errorText(err),
		});
		message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
	}
}
