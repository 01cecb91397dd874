import { insertDeadLetters } from "../src/telemetry/dead-letters-db";
import { newId } from "../src/platform/crypto";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { telemetryMessageSchema, updateCount } from "../src/telemetry/domain";
import { idOf } from "../src/telemetry/consume";

/**
 * Consumer of floodgate-telemetry-dlq: keeps every dead message in D1 (one row per producer id)
 * for GET /api/v1/dead-letters and replay. Bodies that do not parse are kept as they are.
 */
export async function handleTelemetryDlqBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const now = Date.now();
	const letters = batch.messages.map((msg) => {
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
	});
	try {
		await insertDeadLetters(env.DB, letters);
		batch.ackAll();
	} catch (err) {
		log.error("storing dead letters failed", { count: letters.length, error: errorText(err) });
		for (const msg of batch.messages) msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
	}
}
