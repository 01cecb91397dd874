import { z } from "zod";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { giveUpReport, runReportStep } from "../src/reports/runner";

/**
 * Consumer of floodgate-reports-short and floodgate-reports-long (the same code; each queue has its
 * own concurrency in wrangler.toml, so long reports never hold the short lane). Each message is
 * one step of one report: acked once its checkpoint is committed and the next step's message sent,
 * retried with backoff on its own otherwise.
 */

const messageSchema = z.object({ report_id: z.string().regex(/^rep_[0-9a-f]{32}$/), step: z.number().int().min(0) });

export async function handleReportsBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = messageSchema.safeParse(msg.body);
		if (!parsed.success) {
			// It can never run: retried until max_retries hands it to the DLQ, whose consumer logs it.
			log.error("invalid report message left for the dead-letter queue", { queue: batch.queue, message_id: msg.id });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		try {
			const outcome = await runReportStep(env, parsed.data);
			if (outcome === "missing") log.warn("report step for an unknown report", { report_id: parsed.data.report_id });
			msg.ack();
		} catch (err) {
			const delaySeconds = retryDelaySeconds(msg.attempts);
			log.error("report step failed", {
				report_id: parsed.data.report_id,
				step: parsed.data.step,
				attempts: msg.attempts,
				delay_seconds: delaySeconds,
				error: errorText(err),
			});
			msg.retry({ delaySeconds });
		}
	}
}

/**
 * Consumer of floodgate-reports-dlq: a step that failed max_retries times fails its report (its
 * checkpoint stays until the report expires); a message that is not a report step is logged.
 */
export async function handleReportsDeadLetterBatch(
	batch: MessageBatch,
	env: Env,
	_ctx: ExecutionContext,
): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = messageSchema.safeParse(msg.body);
		if (parsed.success) {
			try {
				await giveUpReport(env, parsed.data.report_id, `step ${parsed.data.step} failed after every retry`);
			} catch (err) {
				log.error("failing a dead-lettered report failed", { report_id: parsed.data.report_id, error: errorText(err) });
				msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
				continue;
			}
		} else {
			log.error("invalid dead-lettered report message", {
				message_id: msg.id,
				body: JSON.stringify(msg.body ?? null).slice(0, 500),
			});
		}
		msg.ack();
	}
}
