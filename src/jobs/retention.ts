import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import {
	purgeExpiredJobDeadLetters,
	purgeExpiredJobEdges,
	purgeExpiredJobLogs,
	purgeExpiredJobs,
} from "./retention-db";

/**
 * Finished jobs and their logs are kept JOBS_RETENTION_DAYS after they finished; the jobs DLQ's
 * dead letters DEAD_LETTER_RETENTION_DAYS. Logs and edges are listed before the jobs they hang on.
 */
export function jobRetentionTargets(env: Env, now: number): RetentionTarget[] {
	const jobs = expiredBefore(now, env.JOBS_RETENTION_DAYS);
	return [
		{ name: "job_logs", cutoff: jobs, purge: (cutoff, limit) => purgeExpiredJobLogs(env.DB, cutoff, limit) },
		{ name: "job_dependencies", cutoff: jobs, purge: (cutoff, limit) => purgeExpiredJobEdges(env.DB, cutoff, limit) },
		{ name: "jobs", cutoff: jobs, purge: (cutoff, limit) => purgeExpiredJobs(env.DB, cutoff, limit) },
		{
			name: "job_dead_letters",
			cutoff: expiredBefore(now, env.DEAD_LETTER_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeExpiredJobDeadLetters(env.DB, cutoff, limit),
		},
	];
}
