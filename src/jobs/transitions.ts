import type { ClaimedJob } from "./claims-db";
import type { LogEntry, Outcome } from "./batches-db";
import { applyOutcomes } from "./batches-db";
import type { DependencyEdge } from "./dependencies-db";
import { cancelWaiting, findDependentsOf, releaseWaiting } from "./dependencies-db";
import { backoffMs } from "./backoff";
import type { AttemptOutcome } from "./domain";
import { nextStateAfter } from "./domain";
import type { TokenRequest } from "./tokens";
import { sendRunTokens } from "./tokens";
import { publishEvent } from "../webhooks/service";

/** `logs`: lines the handler logged during the attempt, written with the outcome (at most 50). */
export type FinishedAttempt = {
	job: ClaimedJob;
	outcome: AttemptOutcome | { kind: "cancelled"; reason: string };
	logs?: string[];
};

const MAX_HANDLER_LOGS = 50;
/**
 * Levels of dependents cancelled right after a dependency fails (two queries a level); deeper
 * levels are cancelled by the sweeper's repair (src/jobs/dependency-repair.ts), in bounded batches.
 */
export const INLINE_CANCEL_LEVELS = 10;

export type Clock = { now: () => number; random: () => number };
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), random: () => Math.random() };

/** What one finished attempt writes: its outcome row, its handler's lines and, for a failure, a line saying so. */
type Plan = { job: ClaimedJob; outcome: Outcome; logs: LogEntry[] };

/**
 * Records the end of claimed attempts in one DB.batch of compare-and-set writes, many jobs per
 * statement (a job changed meanwhile — cancelled, taken back — keeps that change), then sends
 * retry tokens and settles dependents. Returns the ids whose transition applied.
 */
export async function finishAttempts(
	env: Env,
	finished: FinishedAttempt[],
	clock: Clock = SYSTEM_CLOCK,
): Promise<Set<string>> {
	if (finished.length === 0) return new Set();
	const now = clock.now();
	const plans = finished.map((attempt) => planOutcome(attempt, now, clock.random));
	const applied = await applyOutcomes(
		env.DB,
		plans.map((p) => p.outcome),
		plans.flatMap((p) => p.logs),
		now,
	);
	const done = plans.filter((p) => applied.has(p.job.id));
	await sendRunTokens(env, retryTokens(done), now);
	await settleDependents(env, done, now);
	await publishJobEvents(env, done);
	return applied;
}

/** job.completed and job.dead webhooks (publishEvent never throws; cheap without subscribers). */
async function publishJobEvents(env: Env, done: readonly Plan[]): Promise<void> {
	for (const { job, outcome } of done) {
		if (outcome.status !== "completed" && outcome.status !== "dead") continue;
		const error = outcome.status === "dead" ? outcome.error : null;
		await publishEvent(env, job.tenant_id, `job.${outcome.status}`, {
			job_id: job.id,
			type: job.type,
			attempts: job.attempts,
			error,
		});
	}
}

/** The row an attempt's outcome writes: completed, cancelled, or failed and retried later or dead. */
function planOutcome({ job, outcome, logs }: FinishedAttempt, now: number, random: () => number): Plan {
	const row = { id: job.id, version: job.version };
	const lines = handlerLines(job.id, logs);
	if (outcome.kind === "cancelled")
		return { job, outcome: { ...row, status: "cancelled", error: outcome.reason }, logs: lines };
	if (outcome.kind === "completed") {
		const result = JSON.stringify(outcome.result ?? null);
		return { job, outcome: { ...row, status: "completed", result, error: null }, logs: lines };
	}
	const next = nextStateAfter(outcome, job.attempts, job.max_retries, now, backoffMs(job.attempts, random));
	const retryAt = next.status === "failed" ? next.readyAt : null;
	const failure: LogEntry = {
		jobId: job.id,
		level: retryAt === null ? "error" : "warn",
		message: `attempt ${job.attempts} failed: ${outcome.error}`,
	};
	const written: Outcome =
		retryAt === null
			? { ...row, status: "dead", error: outcome.error }
			: { ...row, status: "failed", error: outcome.error, readyAt: retryAt };
	return { job, outcome: written, logs: [...lines, failure] };
}

/** The lines a handler logged during its attempt, at most MAX_HANDLER_LOGS. */
function handlerLines(jobId: string, logs: readonly string[] = []): LogEntry[] {
	return logs.slice(0, MAX_HANDLER_LOGS).map((message) => ({ jobId, level: "info", message }));
}

/** Tokens for the queue jobs whose failed attempt will be retried, at their retry time. */
function retryTokens(done: readonly Plan[]): TokenRequest[] {
	return done.flatMap(({ job, outcome }): TokenRequest[] =>
		outcome.status === "failed" && job.runner === "queue" && typeof outcome.readyAt === "number"
			? [{ tenantId: job.tenant_id, jobId: job.id, readyAt: outcome.readyAt }]
			: [],
	);
}

/** Jobs with dependents that ended: completed ones release their dependents, dead or cancelled ones cancel them. */
async function settleDependents(env: Env, done: readonly Plan[], now: number): Promise<void> {
	const ended = done.filter((p) => p.job.has_dependents !== 0);
	await releaseDependents(
		env,
		ended.filter((p) => p.outcome.status === "completed").map((p) => p.job.id),
		now,
	);
	await cancelDependents(
		env,
		ended
			.filter((p) => p.outcome.status === "dead" || p.outcome.status === "cancelled")
			.map((p) => ({ id: p.job.id, reason: `dependency ${p.job.id} ended ${p.outcome.status}` })),
		now,
	);
}

/**
 * Dependencies completed: each waiting dependent counts the ones it waited on (a dependency is
 * released once: only by the transition that completed it), and is queued at zero. One query for
 * the edges and one multi-row update, however many jobs completed.
 */
export async function releaseDependents(env: Env, jobIds: readonly string[], now: number): Promise<void> {
	if (jobIds.length === 0) return;
	const counts = countPerDependent(await findDependentsOf(env.DB, jobIds));
	if (counts.size === 0) return;
	const tokens: TokenRequest[] = [];
	for (const job of await releaseWaiting(env.DB, [...counts], now)) {
		if (job.status !== "waiting" && job.runner === "queue")
			tokens.push({ tenantId: job.tenant_id, jobId: job.id, readyAt: Math.max(now, job.ready_at) });
	}
	await sendRunTokens(env, tokens, now);
}

/** How many of the ended dependencies each dependent waited on. */
function countPerDependent(edges: readonly DependencyEdge[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const edge of edges) counts.set(edge.job_id, (counts.get(edge.job_id) ?? 0) + 1);
	return counts;
}

/**
 * Dependencies ended dead or cancelled: their waiting dependents (and theirs, level by level, up to
 * `levels`) are cancelled with a reason naming the dependency. One query and one multi-row update
 * per level.
 */
export async function cancelDependents(
	env: Env,
	roots: readonly { id: string; reason: string }[],
	now: number,
	levels = INLINE_CANCEL_LEVELS,
): Promise<void> {
	let level = [...roots];
	for (let depth = 0; depth < levels && level.length > 0; depth++) {
		const reasons = new Map(level.map((l) => [l.id, l.reason]));
		const cancel = reasonPerDependent(await findDependentsOf(env.DB, [...reasons.keys()]), reasons);
		if (cancel.size === 0) return;
		level = (await cancelWaiting(env.DB, [...cancel], now))
			.filter((row) => row.has_dependents)
			.map((row) => ({ id: row.id, reason: `dependency ${row.id} ended cancelled` }));
	}
}

/** Each dependent of the ended jobs, with the reason of the dependency it waited on. */
function reasonPerDependent(edges: readonly DependencyEdge[], reasons: Map<string, string>): Map<string, string> {
	const cancel = new Map<string, string>();
	for (const edge of edges) cancel.set(edge.job_id, reasons.get(edge.depends_on) ?? "a dependency ended");
	return cancel;
}
