import type { JobRow } from "../db/jobs";
import { transition } from "../db/jobs";
import type { AttemptOutcome } from "../domain/jobs";
import { handlerFor } from "../jobs/registry";
import type { JobContext } from "../jobs/types";
import { JobCancelledError, PermanentJobError } from "../jobs/types";
import { claimWeighted } from "./job-claims";
import { releaseSlot, takeSlot } from "./job-gate";
import type { FinishedAttempt } from "./job-transitions";
import { finishAttempts } from "./job-transitions";
import { sendRunTokens } from "./job-tokens";

/** Jobs claimed and run together (one claim per priority, one batch of outcome writes). */
export const ROUND_MAX_JOBS = 500;
/** Rounds per tenant per invocation; units left after that are handed to fresh tokens. */
export const MAX_ROUNDS = 20;

export type RunSummary = { claimed: number; leftover: number };

/**
 * Runs up to `units` of a tenant's ready built-in jobs (the units of the run tokens received), in
 * rounds of up to ROUND_MAX_JOBS: claim by weighted priority, take per-type slots, run the
 * handlers concurrently with their timeouts, record every outcome in one batch of compare-and-set
 * writes. Stops when no more jobs are ready (remaining units are surplus) or after MAX_ROUNDS;
 * `leftover` is then the units the caller must pass on to new tokens before acking.
 */
export async function runReadyJobs(env: Env, tenantId: string, units: number, consumerId: string): Promise<RunSummary> {
	let left = units;
	let claimed = 0;
	for (let round = 0; round < MAX_ROUNDS && left > 0; round++) {
		const n = Math.min(left, ROUND_MAX_JOBS);
		const { jobs, maybeMore } = await claimWeighted(env.DB, { tenantId, runner: "queue", types: null, n, now: Date.now(), claimedBy: consumerId });
		left -= jobs.length;
		claimed += jobs.length;
		if (jobs.length > 0) await runRound(env, tenantId, jobs);
		if (jobs.length < n && !maybeMore) return { claimed, leftover: 0 };
	}
	return { claimed, leftover: left };
}

async function runRound(env: Env, tenantId: string, jobs: JobRow[]): Promise<void> {
	const admitted: JobRow[] = [];
	for (const job of jobs) {
		const gate = await takeSlot(env, job);
		if (gate.ok) {
			admitted.push(job);
			continue;
		}
		// Over the type's limit: give the claim back uncounted and come back when a slot may be free.
		const readyAt = Date.now() + gate.retryAfterMs;
		if (await transition(env.DB, { id: job.id, version: job.version, status: "queued", now: Date.now(), readyAt, attempts: "undo" })) {
			await sendRunTokens(env, [{ tenantId, jobId: job.id, readyAt }], Date.now());
		}
	}
	const finished = await Promise.all(admitted.map((job) => runOne(env, job)));
	try {
		await finishAttempts(env, finished);
	} finally {
		await Promise.all(admitted.map((job) => releaseSlot(env, job)));
	}
}

async function runOne(env: Env, job: JobRow): Promise<FinishedAttempt> {
	const handler = handlerFor(job.type);
	if (!handler) return { job, outcome: { kind: "failed", error: `no handler for type ${job.type}`, retry: false } };
	const controller = new AbortController();
	const timeoutMs = job.timeout_seconds * 1000;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timedOut = new Promise<AttemptOutcome>((resolve) => {
		timer = setTimeout(() => {
			controller.abort();
			resolve({ kind: "failed", error: `timed out after ${job.timeout_seconds} s`, retry: true });
		}, timeoutMs);
	});
	const logs: string[] = [];
	const ctx: JobContext = {
		jobId: job.id,
		tenantId: job.tenant_id,
		attempt: job.attempts,
		env,
		signal: controller.signal,
		progress: (fraction) => reportProgress(env.DB, job, fraction),
		log: (message) => void logs.push(message),
	};
	try {
		const outcome = await Promise.race([handler.run(JSON.parse(job.payload) as unknown, ctx).then((result): AttemptOutcome => ({ kind: "completed", result })), timedOut]);
		return { job, outcome };
	} catch (err) {
		if (err instanceof JobCancelledError) return { job, outcome: { kind: "cancelled", reason: "cancelled while running" } };
		return { job, outcome: { kind: "failed", error: err instanceof Error ? err.message : String(err), retry: !(err instanceof PermanentJobError) } };
	} finally {
		if (timer !== undefined) clearTimeout(timer);
		if (logs.length > 0) await env.DB.batch(logs.slice(0, 50).map((m) => env.DB.prepare("INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, 'info', ?)").bind(job.id, Date.now(), m.slice(0, 2000))));
	}
}

/**
 * Progress is written only while the claim is still ours (same version) and does not bump the
 * version; the answer says whether a cancel was requested.
 */
export async function reportProgress(db: D1Database, job: Pick<JobRow, "id" | "version">, fraction: number): Promise<void> {
	const row = await db
		.prepare("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND version = ? AND status = 'processing' RETURNING cancel_requested")
		.bind(Math.min(1, Math.max(0, fraction)), Date.now(), job.id, job.version)
		.first<{ cancel_requested: number }>();
	if (!row || row.cancel_requested) throw new JobCancelledError();
}
