import type { ClaimedJob } from "./claims-db";
import type { LogEntry, Outcome } from "./batches-db";
import { applyOutcomes } from "./batches-db";
import { cancelWaiting, findDependentsOf, releaseWaiting } from "./dependencies-db";
import { backoffMs } from "./backoff";
import type { AttemptOutcome } from "./domain";
import { nextStateAfter } from "./domain";
import type { TokenRequest } from "./tokens";
import { sendRunTokens } from "./tokens";

/** `logs`: lines the handler logged during the attempt, written with the outcome (at most 50). */
export type FinishedAttempt = {
	job: ClaimedJob;
	outcome: AttemptOutcome | { kind: "cancelled"; reason: string };
	logs?: string[];
};

const MAX_HANDLER_LOGS = 50;
/** Levels of dependents cancelled after a dependency fails (a chain deeper than this stays waiting). */
const MAX_DEPENDENCY_DEPTH = 1_000;

export type Clock = { now: () => number; random: () => number };
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), random: () => Math.random() };

type Plan = { job: ClaimedJob; outcome: Outcome };

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
	const logs: LogEntry[] = [];
	const plans = finished.map(({ job, outcome, logs: lines }): Plan => {
		for (const message of (lines ?? []).slice(0, MAX_HANDLER_LOGS))
			logs.push({ jobId: job.id, level: "info", message });
		const base = { id: job.id, version: job.version };
		if (outcome.kind === "cancelled") return { job, outcome: { ...base, status: "cancelled", error: outcome.reason } };
		const next = nextStateAfter(outcome, job.attempts, job.max_retries, now, backoffMs(job.attempts, clock.random));
		if (next.status === "completed") {
			return {
				job,
				outcome: {
					...base,
					status: "completed",
					result: JSON.stringify(outcome.kind === "completed" ? (outcome.result ?? null) : null),
					error: null,
				},
			};
		}
		const error = outcome.kind === "failed" ? outcome.error : "failed";
		logs.push({
			jobId: job.id,
			level: next.status === "dead" ? "error" : "warn",
			message: `attempt ${job.attempts} failed: ${error}`,
		});
		if (next.status === "dead") return { job, outcome: { ...base, status: "dead", error } };
		return { job, outcome: { ...base, status: "failed", error, readyAt: next.readyAt } };
	});
	const applied = await applyOutcomes(
		env.DB,
		plans.map((p) => p.outcome),
		logs,
		now,
	);
	const tokens: TokenRequest[] = [];
	for (const { job, outcome } of plans) {
		if (!applied.has(job.id)) continue;
		if (outcome.status === "failed" && job.runner === "queue" && typeof outcome.readyAt === "number") {
			tokens.push({ tenantId: job.tenant_id, jobId: job.id, readyAt: outcome.readyAt });
		}
	}
	await sendRunTokens(env, tokens, now);
	const settled = plans.filter(({ job }) => applied.has(job.id) && job.has_dependents !== 0);
	await releaseDependents(
		env,
		settled.filter((p) => p.outcome.status === "completed").map((p) => p.job.id),
		now,
	);
	await cancelDependents(
		env,
		settled
			.filter((p) => p.outcome.status === "dead" || p.outcome.status === "cancelled")
			.map((p) => ({ id: p.job.id, reason: `dependency ${p.job.id} ended ${p.outcome.status}` })),
		now,
	);
	return applied;
}

/**
 * Dependencies completed: each waiting dependent counts the ones it waited on (a dependency is
 * released once: only by the transition that completed it), and is queued at zero. One query for
 * the edges and one multi-row update, however many jobs completed.
 */
export async function releaseDependents(env: Env, jobIds: readonly string[], now: number): Promise<void> {
	if (jobIds.length === 0) return;
	const counts = new Map<string, number>();
	for (const edge of await findDependentsOf(env.DB, jobIds))
		counts.set(edge.job_id, (counts.get(edge.job_id) ?? 0) + 1);
	if (counts.size === 0) return;
	const tokens: TokenRequest[] = [];
	for (const row of await releaseWaiting(env.DB, [...counts], now)) {
		if (row.status !== "waiting" && row.runner === "queue")
			tokens.push({ tenantId: row.tenant_id, jobId: row.id, readyAt: Math.max(now, row.ready_at) });
	}
	await sendRunTokens(env, tokens, now);
}

/**
 * Dependencies ended dead or cancelled: their waiting dependents (and theirs, level by level) are
 * cancelled with a reason naming the dependency. One query and one multi-row update per level.
 */
export async function cancelDependents(
	env: Env,
	roots: readonly { id: string; reason: string }[],
	now: number,
): Promise<void> {
	let level = [...roots];
	for (let depth = 0; depth < MAX_DEPENDENCY_DEPTH && level.length > 0; depth++) {
		const reasons = new Map(level.map((l) => [l.id, l.reason]));
		const cancel = new Map<string, string>();
		for (const edge of await findDependentsOf(env.DB, [...reasons.keys()]))
			cancel.set(edge.job_id, reasons.get(edge.depends_on) ?? "a dependency ended");
		if (cancel.size === 0) return;
		level = (await cancelWaiting(env.DB, [...cancel], now))
			.filter((row) => row.has_dependents)
			.map((row) => ({ id: row.id, reason: `dependency ${row.id} ended cancelled` }));
	}
}
