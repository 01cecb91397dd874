import { log } from "../src/platform/log";
import { sleep } from "../src/platform/timeout";
import { consumeTelemetryBatch } from "../src/telemetry/consume";
import { telemetryMessageSchema, updateCount } from "../src/telemetry/domain";
import { backfillTurn } from "../src/telemetry/lane-limits";

/**
 * Consumer of floodgate-telemetry-backfill, the slow lane: the same idempotent write path as the
 * live lane (src/telemetry/consume.ts), paced to TELEMETRY_BACKFILL_WRITES_PER_SECOND updates a
 * second by a leaky bucket in the limiter, so a replayed week of points never takes the D1
 * capacity live data needs. A batch waits its turn here; if the turn is further off than the
 * bucket's 30 s, the batch comes back later (retry with that delay). D1 errors back off per message.
 */
export async function handleTelemetryBackfillBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	const updates = batch.messages.reduce((sum, msg) => {
		const parsed = telemetryMessageSchema.safeParse(msg.body);
		return sum + (parsed.success ? updateCount(parsed.data) : 0);
	}, 0);
	const turn = await backfillTurn(env, updates);
	if ("retryAfterMs" in turn) {
		const delaySeconds = Math.max(1, Math.ceil(turn.retryAfterMs / 1000));
		log.warn("backfill pace behind; batch comes back later", { updates, delay_seconds: delaySeconds });
		for (const msg of batch.messages) msg.retry({ delaySeconds });
		return;
	}
	if (turn.waitMs > 0) await sleep(turn.waitMs);
	await consumeTelemetryBatch(batch, env);
}
