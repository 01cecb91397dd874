import type { JobRow } from "./db";
import { findJob, findNewestByDedupeKeys, logStatement, requestCancel, transitionStatement } from "./db";
import { extendClaim } from "./claims-db";
import { AppError } from "../platform/errors";
import type { AttemptOutcome } from "./domain";
import { cancelDependents, finishAttempts } from "./transitions";
import { sendRunTokens } from "./tokens";

export async function requireJob(db: D1Database, tenantId: string, id: string): Promise<JobRow> {
	const job = await findJob(db, tenantId, id);
	if (!job) throw new AppError(404, "job_not_found", `No job ${id}.`);
	return job;
}

/**
 * For each dedupe key, the newest job that took it (live or finished), keyed by dedupe key; a key
 * no job holds (never written, or purged by retention) is absent. For features that repair their
 * own jobs (the recordings sweeper).
 */
export async function newestJobsByDedupeKey(env: Env, tenantId: string, keys: string[]): Promise<Map<string, JobRow>> {
	const rows = await findNewestByDedupeKeys(env.DB, tenantId, keys);
	return new Map(rows.flatMap((row) => (row.dedupe_key === null ? [] : [[row.dedupe_key, row] as const])));
}

/**
 * Cancels a job. Not yet running (scheduled, waiting, queued, failed): cancelled at once with a
 * compare-and-set, so it never runs. Running: the cancel is flagged; the handler or external
 * worker sees it at its next progress report or heartbeat. Finished: 409.
 */
export async function cancelJob(env: Env, tenantId: string, id: string): Promise<JobRow> {
	for (let attempt = 0; attempt < 5; attempt++) {
		const job = await requireJob(env.DB, tenantId, id);
		const now = Date.now();
		if (job.status === "completed" || job.status === "dead" || job.status === "cancelled") {
			throw new AppError(409, "job_finished", `Job ${id} is already ${job.status}.`, { status: job.status });
		}
		if (job.status === "processing") {
			await requestCancel(env.DB, id, now);
			return requireJob(env.DB, tenantId, id);
		}
		const [res] = await env.DB.batch([
			transitionStatement(env.DB, {
				id,
				version: job.version,
				status: "cancelled",
				now,
				error: "cancelled by request",
				finished: true,
			}),
			logStatement(env.DB, id, now, "info", `cancelled while ${job.status}`),
		]);
		if ((res?.meta.changes ?? 0) > 0) {
			if (job.has_dependents) await cancelDependents(env, [{ id, reason: `dependency ${id} ended cancelled` }], now);
			return requireJob(env.DB, tenantId, id);
		}
		// Lost a race with another transition: read again and decide anew.
	}
	throw new AppError(409, "conflict", `Job ${id} kept changing; retry the cancel.`);
}

/** Redrive: a dead job is queued again with its attempts reset. */
export async function redriveJob(env: Env, tenantId: string, id: string): Promise<JobRow> {
	const job = await requireJob(env.DB, tenantId, id);
	if (job.status !== "dead")
		throw new AppError(409, "job_not_dead", `Only dead jobs can be retried; job ${id} is ${job.status}.`, {
			status: job.status,
		});
	const now = Date.now();
	const [res] = await env.DB.batch([
		transitionStatement(env.DB, {
			id,
			version: job.version,
			status: "queued",
			now,
			readyAt: now,
			attempts: "reset",
			error: null,
			progress: 0,
		}),
		logStatement(env.DB, id, now, "info", "redriven from dead"),
	]);
	if ((res?.meta.changes ?? 0) === 0)
		throw new AppError(409, "conflict", `Job ${id} changed meanwhile; read it and retry.`);
	if (job.runner === "queue") await sendRunTokens(env, [{ tenantId, jobId: id, readyAt: now }], now);
	return requireJob(env.DB, tenantId, id);
}

/** A worker's report on its claimed job: it must hold the current claim (same worker, still processing). */
export async function requireClaim(env: Env, tenantId: string, id: string, workerId: string): Promise<JobRow> {
	const job = await requireJob(env.DB, tenantId, id);
	if (job.runner !== "external")
		throw new AppError(409, "not_external", `Job ${id} is run by the platform, not by external workers.`);
	if (job.status !== "processing" || job.claimed_by !== workerId) {
		throw new AppError(
			409,
			"claim_lost",
			`Job ${id} is not claimed by ${workerId} (status ${job.status}); its visibility timeout may have passed.`,
			{ status: job.status },
		);
	}
	return job;
}

/** Heartbeat: extends the visibility timeout, records progress, and reports a pending cancel. */
export async function heartbeat(
	env: Env,
	job: JobRow,
	progress: number | undefined,
): Promise<{ cancelled: boolean; claim_expires_at: number }> {
	const now = Date.now();
	const expires = now + job.timeout_seconds * 1000;
	const row = await extendClaim(env.DB, job, expires, progress ?? null, now);
	if (!row) throw new AppError(409, "claim_lost", `Job ${job.id} changed meanwhile; stop working on it.`);
	if (row.cancel_requested) {
		await finishAttempts(env, [{ job, outcome: { kind: "cancelled", reason: "cancelled while running" } }]);
		return { cancelled: true, claim_expires_at: expires };
	}
	return { cancelled: false, claim_expires_at: expires };
}

/** complete / fail from an external worker, through the same compare-and-set path as the consumer. */
export async function reportOutcome(env: Env, job: JobRow, outcome: AttemptOutcome): Promise<JobRow> {
	const applied = await finishAttempts(env, [{ job, outcome }]);
	if (!applied.has(job.id))
		throw new AppError(409, "claim_lost", `Job ${job.id} changed meanwhile (cancelled or taken back).`);
	return requireJob(env.DB, job.tenant_id, job.id);
}
