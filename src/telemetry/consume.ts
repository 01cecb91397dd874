import { insertDeadLetters } from "../platform/dead-letters-db";
import { newId } from "../platform/crypto";
import { errorText, log } from "../platform/log";
import { telemetryRetryDelaySeconds } from "../platform/queue-limits";
import type { TelemetryMessage } from "./domain";
import { telemetryMessageSchema } from "./domain";
import { writeBatchFigures, writeTelemetry } from "./write-db";
import { planFromReports } from "../planning/service";
import { fieldErrors } from "../platform/validation";

/** Message ids are remembered this long to count redeliveries once (the queue's longest retention). */
const MESSAGE_MEMORY_MS = 14 * 86_400_000;

type Parsed = { msg: Message; body: TelemetryMessage };

/**
 * The write path both telemetry lanes' consumers share (queues/telemetry.ts, telemetry-backfill.ts).
 * Valid messages are written together in one D1 transaction; if that fails (D1 overloaded, one bad
 * message), each is written on its own so that a failing one is retried with backoff (2, 4, 8 … s)
 * without holding back the others. Messages that fail validation cannot succeed later: they are
 * stored as dead letters at once and acked. Nothing is acked before its write committed.
 */
export async function consumeTelemetryBatch(batch: MessageBatch, env: Env): Promise<void> {
	const started = Date.now();
	const valid: Parsed[] = [];
	const invalid: { msg: Message; reason: string }[] = [];
	for (const msg of batch.messages) {
		const parsed = telemetryMessageSchema.safeParse(msg.body);
		if (parsed.success) valid.push({ msg, body: parsed.data });
		else
			invalid.push({
				msg,
				reason: `invalid_message: ${fieldErrors(parsed.error.issues.slice(0, 5))
					.map((f) => `${f.path}: ${f.message}`)
					.join("; ")}`,
			});
	}
	await deadLetterInvalid(env.DB, invalid);

	const written = await writeAll(env.DB, valid, batch.queue);
	if (written.length > 0) await recordBatchFigures(env.DB, written, started);
}

async function writeAll(db: D1Database, items: Parsed[], queue: string): Promise<TelemetryMessage[]> {
	if (items.length === 0) return [];
	const now = Date.now();
	try {
		await writeWithPlanning(
			db,
			items.map((i) => i.body),
			now,
		);
		for (const item of items) item.msg.ack();
		return items.map((i) => i.body);
	} catch (err) {
		if (items.length > 1)
			log.warn("telemetry batch write failed; writing messages one by one", { queue, error: errorText(err) });
	}
	const written: TelemetryMessage[] = [];
	for (const item of items) {
		try {
			await writeWithPlanning(db, [item.body], now);
			item.msg.ack();
			written.push(item.body);
		} catch (err) {
			const delaySeconds = telemetryRetryDelaySeconds(item.msg.attempts);
			log.error("telemetry message write failed", {
				message_id: item.body.id,
				attempts: item.msg.attempts,
				delay_seconds: delaySeconds,
				error: errorText(err),
			});
			item.msg.retry({ delaySeconds });
		}
	}
	return written;
}

async function deadLetterInvalid(db: D1Database, invalid: { msg: Message; reason: string }[]): Promise<void> {
	if (invalid.length === 0) return;
	try {
		await insertDeadLetters(
			db,
			invalid.map(({ msg, reason }) => ({
				id: newId("dl"),
				messageId: idOf(msg),
				tenantId: null,
				kind: null,
				body: JSON.stringify(msg.body) ?? "null",
				updateCount: 0,
				reason: reason.slice(0, 1000),
				attempts: msg.attempts,
				createdAt: Date.now(),
			})),
		);
		for (const { msg } of invalid) msg.ack();
	} catch (err) {
		log.error("storing invalid telemetry messages failed", { error: errorText(err) });
		for (const { msg } of invalid) msg.retry({ delaySeconds: telemetryRetryDelaySeconds(msg.attempts) });
	}
}

/** Batch metrics are best effort: the data and `processed` are already committed. */
async function recordBatchFigures(db: D1Database, written: TelemetryMessage[], started: number): Promise<void> {
	const now = Date.now();
	try {
		await writeBatchFigures(db, written, { at: now, elapsedMs: now - started, pruneBefore: now - MESSAGE_MEMORY_MS });
	} catch (err) {
		log.error("recording telemetry batch figures failed", { error: errorText(err) });
	}
}

/** The producer's id when the body has one (it survives redelivery and replay), else the queue's. */
export function idOf(msg: Message): string {
	const body = msg.body;
	if (typeof body === "object" && body !== null && "id" in body && typeof body.id === "string" && body.id.length <= 64)
		return body.id;
	return `queue:${msg.id}`;
}

/**
 * The data, then the restock needs and maintenance tickets of the reports among it. Both are
 * idempotent: a failure of either leaves the messages unacked and a redelivery redoes both.
 */
async function writeWithPlanning(db: D1Database, messages: readonly TelemetryMessage[], now: number): Promise<void> {
	await writeTelemetry(db, messages, newId("bat"), now);
	const reports = messages.flatMap((m) =>
		m.kind === "report"
			? [
					{
						tenantId: m.tenant_id,
						report: {
							machine_id: m.machine_id,
							report_date: m.report.report_date,
							inventory: m.report.inventory,
							temperature_c: m.report.temperature_c,
							error_codes: m.report.error_codes,
						},
					},
				]
			: [],
	);
	await planFromReports(db, reports, now);
}
