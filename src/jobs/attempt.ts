import type { JobRow } from "./db";
import type { ClaimedJob } from "./claims-db";
import { writeProgress } from "./claims-db";
import type { JobContext, JobHandler } from "./handlers/types";
import { JobCancelledError, PermanentJobError } from "./handlers/types";
import type { FinishedAttempt } from "./transitions";
import { MAX_BUILTIN_TIMEOUT_SECONDS } from "./domain";
import { TimeoutError, withTimeout } from "../platform/timeout";

/** Finds the handler of a type (the registry in production; tests may pass their own). */
export type HandlerLookup = (type: string) => JobHandler | undefined;

/** `mayWrite`: asked before each progress write (a subrequest); a skipped write is just not recorded. */
export type AttemptDeps = { handlers: HandlerLookup; mayWrite: () => boolean };

/**
 * The timeout a built-in attempt really gets: its own, never more than MAX_BUILTIN_TIMEOUT_SECONDS
 * (a row written before that cap existed keeps the longer figure, but not the longer run).
 */
export function attemptTimeoutSeconds(job: Pick<ClaimedJob, "timeout_seconds">): number {
	return Math.min(job.timeout_seconds, MAX_BUILTIN_TIMEOUT_SECONDS);
}

/**
 * Runs a job's handler within its timeout (`ms`, at most the capped timeout): past it, the handler's signal is aborted and the
 * attempt fails (retryable) whether or not the handler gives up.
 */
export async function runAttempt(
	env: Env,
	job: ClaimedJob,
	deps: AttemptDeps,
	ms = attemptTimeoutSeconds(job) * 1000,
): Promise<FinishedAttempt> {
	const handler = deps.handlers(job.type);
	if (!handler) return { job, outcome: { kind: "failed", error: `no handler for type ${job.type}`, retry: false } };
	const logs: string[] = [];
	const seconds = attemptTimeoutSeconds(job);
	try {
		const result = await withTimeout(
			// async: a handler that throws at once still rejects inside the deadline's try.
			async (signal) => handler.run(parsePayload(job.payload), contextFor(env, job, signal, logs, deps)),
			ms,
			`job ${job.id}`,
		);
		return { job, outcome: { kind: "completed", result }, logs };
	} catch (err) {
		return { job, outcome: outcomeOfError(err, seconds), logs };
	}
}

function contextFor(env: Env, job: ClaimedJob, signal: AbortSignal, logs: string[], deps: AttemptDeps): JobContext {
	return {
		jobId: job.id,
		tenantId: job.tenant_id,
		attempt: job.attempts,
		env,
		signal,
		progress: async (fraction) => (deps.mayWrite() ? reportProgress(env.DB, job, fraction) : undefined),
		log: (message) => void logs.push(message),
	};
}

function parsePayload(payload: string): unknown {
	return JSON.parse(payload);
}

function outcomeOfError(err: unknown, seconds: number): FinishedAttempt["outcome"] {
	if (err instanceof TimeoutError) return { kind: "failed", error: `timed out after ${seconds} s`, retry: true };
	if (err instanceof JobCancelledError) return { kind: "cancelled", reason: "cancelled while running" };
	return {
		kind: "failed",
		error: err instanceof Error ? err.message : String(err),
		retry: !(err instanceof PermanentJobError),
	};
}

/**
 * Progress is written only while the claim is still ours (same version) and does not bump the
 * version; the answer says whether a cancel was requested.
 */
export async function reportProgress(
	db: D1Database,
	job: Pick<JobRow, "id" | "version">,
	fraction: number,
): Promise<void> {
	const row = await writeProgress(db, job, Math.min(1, Math.max(0, fraction)), Date.now());
	if (!row || row.cancel_requested) throw new JobCancelledError();
}
