import type { JobRow } from "./db";
import type { ClaimedJob } from "./claims-db";
import { writeProgress } from "./claims-db";
import type { GivenBack } from "./batches-db";
import { giveBack } from "./batches-db";
import { handlerFor } from "./handlers/registry";
import type { JobContext } from "./handlers/types";
import { JobCancelledError, PermanentJobError } from "./handlers/types";
import { claimWeighted } from "./claims";
import { releaseSlot, takeSlot, typeLimits } from "./gate";
import type { GateLimits } from "../../durable-objects/jobs-type-gate";
import type { FinishedAttempt } from "./transitions";
import { finishAttempts } from "./transitions";
import { sendRunTokens } from "./tokens";
import { TimeoutError, withTimeout } from "../platform/timeout";

/** Jobs claimed and run together (one claim statement, one batch of outcome writes). */
export const ROUND_MAX_JOBS = 500;
/** Rounds per tenant per invocation; units left after that are handed to fresh tokens. */
export const MAX_ROUNDS = 20;

/** Round size for a tenant with limited types (each of their jobs is one JobTypeGate call). */
export const LIMITED_ROUND_JOBS = 100;
/** Jobs of limited types per invocation (each takes and releases a slot: two subrequests). */
export const MAX_GATED_PER_INVOCATION = 200;

/** `saturated`: a per-type limit refused jobs, so the leftover units should wait a moment. */
export type RunSummary = { claimed: number; leftover: number; saturated: boolean };
export type RoundLimits = { roundJobs: number; rounds: number };
const DEFAULT_ROUND_LIMITS: RoundLimits = { roundJobs: ROUND_MAX_JOBS, rounds: MAX_ROUNDS };

/**
 * Runs up to `units` of a tenant's ready built-in jobs (the units of the run tokens received), in
 * rounds of up to ROUND_MAX_JOBS: claim by weighted priority, take per-type slots, run the
 * handlers concurrently with their timeouts, record every outcome in one batch of compare-and-set
 * writes. Stops when no more jobs are ready (remaining units are surplus) or after MAX_ROUNDS;
 * `leftover` is then the units the caller must pass on to new tokens before acking.
 */
export async function runReadyJobs(
	env: Env,
	tenantId: string,
	units: number,
	consumerId: string,
	limits: RoundLimits = DEFAULT_ROUND_LIMITS,
): Promise<RunSummary> {
	// Looked up once for all rounds; each job of a limited type asks its JobTypeGate.
	const limitsByType = await typeLimits(env.DB, tenantId);
	// Keep rounds with gate calls at the old batch size.
	const roundJobs = limitsByType.size > 0 ? Math.min(limits.roundJobs, LIMITED_ROUND_JOBS) : limits.roundJobs;
	let left = units;
	let claimed = 0;
	let gated = 0;
	for (let round = 0; round < limits.rounds && left > 0; round++) {
		const n = Math.min(left, roundJobs);
		const { jobs, maybeMore } = await claimWeighted(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			n,
			now: Date.now(),
			claimedBy: consumerId,
		});
		left -= jobs.length;
		claimed += jobs.length;
		const { refused, asked } =
			jobs.length > 0 ? await runRound(env, tenantId, jobs, limitsByType) : { refused: 0, asked: 0 };
		gated += asked;
		if (jobs.length < n && !maybeMore) return { claimed, leftover: 0, saturated: false };
		// A type at its limit: its jobs are back with delayed tokens; the units left are not spent
		// on claiming more of them now, but passed on (the caller delays them a little).
		if (refused > 0) return { claimed, leftover: left, saturated: true };
		// Each gated job is two Durable Object calls: keep an invocation's subrequests bounded.
		if (gated >= MAX_GATED_PER_INVOCATION) return { claimed, leftover: left, saturated: false };
	}
	return { claimed, leftover: left, saturated: false };
}

/** Runs one round; returns how many jobs asked the per-type gate and how many it refused (given back). */
async function runRound(
	env: Env,
	tenantId: string,
	jobs: ClaimedJob[],
	limitsByType: ReadonlyMap<string, GateLimits>,
): Promise<{ refused: number; asked: number }> {
	const admitted: ClaimedJob[] = [];
	const refused: GivenBack[] = [];
	for (const job of jobs) {
		// Types without max_concurrency or rate_per_second never ask the JobTypeGate.
		const typeLimit = limitsByType.get(job.type);
		const gate = typeLimit ? await takeSlot(env, job, typeLimit) : ({ ok: true } as const);
		if (gate.ok) admitted.push(job);
		else refused.push({ id: job.id, version: job.version, readyAt: Date.now() + gate.retryAfterMs });
	}
	// Over the type's limit: the claims are given back uncounted, in one statement, and come back
	// (with their own tokens) when a slot may be free.
	if (refused.length > 0) {
		const now = Date.now();
		const applied = await giveBack(env.DB, refused, now);
		await sendRunTokens(
			env,
			refused.filter((r) => applied.has(r.id)).map((r) => ({ tenantId, jobId: r.id, readyAt: r.readyAt })),
			now,
		);
	}
	const finished = await Promise.all(admitted.map((job) => runOne(env, job)));
	try {
		await finishAttempts(env, finished);
	} finally {
		await Promise.all(admitted.filter((job) => limitsByType.has(job.type)).map((job) => releaseSlot(env, job)));
	}
	return { refused: refused.length, asked: jobs.filter((job) => limitsByType.has(job.type)).length };
}

/**
 * Runs a job's handler within its timeout_seconds: past it, the handler's signal is aborted and
 * the attempt fails (retryable) whether or not the handler gives up.
 */
async function runOne(env: Env, job: ClaimedJob): Promise<FinishedAttempt> {
	const handler = handlerFor(job.type);
	if (!handler) return { job, outcome: { kind: "failed", error: `no handler for type ${job.type}`, retry: false } };
	const logs: string[] = [];
	try {
		const result = await withTimeout(
			// async: a handler that throws at once still rejects inside the deadline's try.
			async (signal) => handler.run(parsePayload(job.payload), contextFor(env, job, signal, logs)),
			job.timeout_seconds * 1000,
			`job ${job.id}`,
		);
		return { job, outcome: { kind: "completed", result }, logs };
	} catch (err) {
		return { job, outcome: outcomeOfError(err, job), logs };
	}
}

function contextFor(env: Env, job: ClaimedJob, signal: AbortSignal, logs: string[]): JobContext {
	return {
		jobId: job.id,
		tenantId: job.tenant_id,
		attempt: job.attempts,
		env,
		signal,
		progress: (fraction) => reportProgress(env.DB, job, fraction),
		log: (message) => void logs.push(message),
	};
}

function parsePayload(payload: string): unknown {
	return JSON.parse(payload);
}

function outcomeOfError(err: unknown, job: ClaimedJob): FinishedAttempt["outcome"] {
	if (err instanceof TimeoutError)
		return { kind: "failed", error: `timed out after ${job.timeout_seconds} s`, retry: true };
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
