import type { RetentionTarget } from "../platform/retention";
import { deleteReports, listExpiredReports, purgeExpiredChildren } from "./db";
import { resultKey } from "./service";

/**
 * Expired reports (expires_at: a day after a historical result, minutes after one touching today,
 * two days after an unfinished one): their partials and chunks first, then the R2 results and the
 * report rows, each in the sweep's bounded batches (99 reports per statement: one bound id each).
 */
export function reportRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "report_partials",
			cutoff: now,
			purge: (cutoff, limit) => purgeExpiredChildren(env.DB, "report_partials", cutoff, limit),
		},
		{
			name: "report_chunks",
			cutoff: now,
			purge: (cutoff, limit) => purgeExpiredChildren(env.DB, "report_chunks", cutoff, limit),
		},
		{ name: "reports", cutoff: now, purge: (cutoff, limit) => purgeReports(env, cutoff, Math.min(limit, 99)) },
	];
}

/** Deletes the R2 results before the rows, so a crash in between leaves rows the next run retries. */
async function purgeReports(env: Env, cutoff: number, limit: number): Promise<number> {
	const expired = await listExpiredReports(env.DB, cutoff, limit);
	if (expired.length === 0) return 0;
	await env.REPORTS.delete(expired.flatMap((r) => [resultKey(r, "json"), resultKey(r, "csv")]));
	return deleteReports(
		env.DB,
		expired.map((r) => r.id),
		cutoff,
	);
}
