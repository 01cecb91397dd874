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

/**
 * Runs up to `n` of a tenant's ready built-in jobs (one per run token received): claims them by
 * weighted priority, takes per-type slots, runs the handlers concurrently with their timeouts,
 * and records every outcome in one batch of compare-and-set writes.
 */
export async function runReadyJobs(env: Env, tenantId: string, n: number, consumerId: string): Promise<number> {
	const now = Date.now();
	const jobs = await claimWeighted(env.DB, { tenantId, runner: "queue", types: null, n, now, claimedBy: consumerId });
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
	return jobs.length;
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
