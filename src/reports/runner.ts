import { errorText, log } from "../platform/log";
import type { ReportRow } from "./db";
import { commitStep, completeReport, failReport, findReportById, nextChunk, readPartials } from "./db";
import type { ReportParams, ReportType } from "./domain";
import { isReportType, REPORT_TYPES, resultTtlMs } from "./domain";
import type { ReportMessage } from "./service";
import { enqueueStep, onReportFinished, resultKey } from "./service";
import { mergerFor, resultCsv, resultJson, ResultTooLarge } from "./results";
import { STEPS } from "./steps";

/**
 * Runs one step of a report: the first unfinished chunk from its checkpoint, at most
 * REPORT_STEP_QUERY_BUDGET source queries, then the checkpoint and the next step's message. A crash
 * anywhere before the commit loses only this step's work: the redelivered message starts again
 * from the same checkpoint; finished chunks are never read again. When every chunk is done the
 * step merges the partials and writes the result.
 */

export type StepOutcome = "missing" | "finished" | "stale" | "continued" | "completed" | "failed";
/**
 * Test seams: `beforeChunk` runs before a chunk's step (a test throws there to simulate a crash);
 * `enqueue` replaces sending the next step's message (a test drives the steps itself).
 */
export type StepHooks = {
	beforeChunk?: (chunkIndex: number) => void;
	enqueue?: (message: ReportMessage) => Promise<void>;
};

/** Source queries per step: a batch of 2 messages stays under D1's 1,000 queries per invocation. */
export const REPORT_STEP_QUERY_BUDGET = 450;
const PARTIALS_PAGE = 1_000;

export async function runReportStep(
	env: Env,
	message: ReportMessage,
	hooks: StepHooks = {},
	budget = REPORT_STEP_QUERY_BUDGET,
): Promise<StepOutcome> {
	const report = await findReportById(env.DB, message.report_id);
	if (!report) return "missing";
	if (report.status === "completed" || report.status === "failed") return "finished";
	if (report.step !== message.step || !isReportType(report.type)) return "stale";
	const type = report.type;
	const params = REPORT_TYPES[type].params.parse(JSON.parse(report.params));
	const chunk = await nextChunk(env.DB, report.id);
	if (!chunk) return finish(env, report, type, params);
	hooks.beforeChunk?.(chunk.chunk_index);
	const out = await STEPS[type]({ db: env.DB, tenantId: report.tenant_id, params, chunk, budget });
	const now = Date.now();
	const won = await commitStep(env.DB, {
		reportId: report.id,
		step: report.step,
		chunk,
		cursor: out.cursor,
		partials: out.partials,
		now,
	});
	if (!won) return "stale";
	if (hooks.enqueue) await hooks.enqueue({ report_id: report.id, step: report.step + 1 });
	else await enqueueStep(env, report, report.step + 1);
	return "continued";
}

/** Marks a report failed for good (retries exhausted) and announces it once. */
export async function giveUpReport(env: Env, reportId: string, reason: string): Promise<boolean> {
	const failed = await failReport(env.DB, reportId, reason, Date.now());
	const report = failed ? await findReportById(env.DB, reportId) : null;
	if (report) await onReportFinished(env, report);
	return failed;
}

async function finish(env: Env, report: ReportRow, type: ReportType, params: ReportParams): Promise<StepOutcome> {
	const merger = mergerFor(type, params);
	try {
		let after: { chunk: number; key: string } | null = null;
		for (;;) {
			const page = await readPartials(env.DB, report.id, after, PARTIALS_PAGE);
			merger.add(page);
			const last = page.at(-1);
			if (!last || page.length < PARTIALS_PAGE) break;
			after = { chunk: last.chunk_index, key: last.group_key };
		}
	} catch (err) {
		if (!(err instanceof ResultTooLarge)) throw err;
		await giveUpReport(env, report.id, `result_too_large: ${err.message}`);
		return "failed";
	}
	const now = Date.now();
	const result = merger.finish();
	const json = resultJson(type, params, report.id, result, now);
	const csv = resultCsv(result);
	// Deterministic keys: a redelivered last step writes the same objects again.
	await env.REPORTS.put(resultKey(report, "json"), json, { httpMetadata: { contentType: "application/json" } });
	await env.REPORTS.put(resultKey(report, "csv"), csv, { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
	const bytes = new TextEncoder().encode(json).byteLength;
	const expiresAt = now + resultTtlMs(params, now);
	if (await completeReport(env.DB, report.id, { rows: result.rows.length, bytes, finishedAt: now, expiresAt })) {
		try {
			await onReportFinished(env, { ...report, status: "completed", finished_at: now, expires_at: expiresAt });
		} catch (err) {
			log.error("report finished hook failed", { report_id: report.id, error: errorText(err) });
		}
	}
	return "completed";
}
