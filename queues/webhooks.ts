import { z } from "zod";
import type { AttemptMessage } from "../src/delivery/engine";
import { attemptMessageSchema, runAttempt } from "../src/delivery/engine";
import { runPooled } from "../src/delivery/pool";
import { openAttemptBatch } from "../src/webhooks/batch";
import { LEASE_MS } from "../src/webhooks/delivery-db";
import type { FanoutMessage } from "../src/webhooks/service";
import { fanOut, fanoutMessageSchema } from "../src/webhooks/service";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";

/**
 * Consumer of floodgate-webhooks: fan-out messages (an event → its deliveries) and attempt
 * messages (one delivery attempt, src/delivery/engine.ts). The batch's attempts share their I/O
 * (src/webhooks/batch.ts: rows read up front, the attempt log and delivery states written in one
 * transaction, the unpaced deliveries claimed together) and run up to 6 at once
 * (src/delivery/pool.ts: Workers' simultaneous outbound connections per invocation; an attempt
 * may wait 15 s on a slow receiver). Each message is
 * acked or retried on its own; an attempt message is acked only after the batch's writes are
 * stored. A message that throws is retried by the queue (max_retries, then floodgate-webhooks-dlq);
 * the delivery's own retries are new messages, so they never count against the queue's.
 */

const messageSchema = z.discriminatedUnion("kind", [attemptMessageSchema, fanoutMessageSchema]);

export async function handleWebhooksBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const attempts: { message: Message; body: AttemptMessage }[] = [];
	const fanouts: { message: Message; body: FanoutMessage }[] = [];
	for (const message of batch.messages) {
		const parsed = messageSchema.safeParse(message.body);
		if (!parsed.success) {
			log.error("malformed webhook message dropped", { id: message.id, error: parsed.error.message });
			message.ack();
		} else if (parsed.data.kind === "fanout") fanouts.push({ message, body: parsed.data });
		else attempts.push({ message, body: parsed.data });
	}
	await runPooled(fanouts, async ({ message, body }) => {
		try {
			await fanOut(env, body);
			message.ack();
		} catch (err) {
			retry(message, err, retryDelaySeconds(message.attempts));
		}
	});
	if (attempts.length > 0) await runAttempts(env, attempts);
}

async function runAttempts(env: Env, attempts: { message: Message; body: AttemptMessage }[]): Promise<void> {
	let run;
	try {
		run = await openAttemptBatch(
			env,
			attempts.map((a) => a.body),
		);
	} catch (err) {
		for (const { message } of attempts) retry(message, err, retryDelaySeconds(message.attempts));
		return;
	}
	const { adapter, flush, leaseUntil } = run;
	const done: Message[] = [];
	await runPooled(attempts, async ({ message, body }) => {
		try {
			await runAttempt(env, adapter, body);
			done.push(message);
		} catch (err) {
			retry(message, err, retryDelaySeconds(message.attempts));
		}
	});
	try {
		await flush();
		for (const message of done) message.ack();
	} catch (err) {
		// The claimed deliveries stay `delivering` under their lease: come back after it ran out
		// (the up-front claims' lease, or a lone claim's taken just now, whichever ends later).
		const afterLease = Math.ceil(Math.max(LEASE_MS, leaseUntil - Date.now()) / 1000) + 1;
		for (const message of done) retry(message, err, Math.max(afterLease, retryDelaySeconds(message.attempts)));
	}
}

function retry(message: Message, err: unknown, delaySeconds: number): void {
	log.error("webhook message failed, retried", { id: message.id, attempts: message.attempts, error: errorText(err) });
	message.retry({ delaySeconds });
}
