import type { ClaimedJob } from "../db/jobs";
import type { LogEntry, Outcome } from "../db/job-batches";
import { logStatements, outcomeStatements } from "../db/job-batches";
import { findDependents } from "../db/job-dependencies";
import { backoffMs } from "../domain/job-backoff";
import type { AttemptOutcome } from "../domain/jobs";
import { nextStateAfter } from "../domain/jobs";
import type { TokenRequest } from "./job-tokens";
import { sendRunTokens } from "./job-tokens";

/** `logs`: lines the handler logged during the attempt, written with the outcome (at most 50). */
export type FinishedAttempt = { job: ClaimedJob; outcome: AttemptOutcome | { kind: "cancelled"; reason: string }; logs?: string[] };

const MAX_HANDLER_LOGS = 50;

export type Clock = { now: () => number; random: () => number };
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), random: () => Math.random() };

type Plan = { job: ClaimedJob; outcome: Outcome };

/**
 * Records the end of claimed attempts in one DB.batch of compare-and-set writes, many jobs per
 * statement (a job changed meanwhile — cancelled, taken back — keeps that change), then sends
 * retry tokens and settles dependents. Returns the ids whose transition applied.
 */
export async function finishAttempts(env: Env, finished: FinishedAttempt[], clock: Clock = SYSTEM_CLOCK): Promise<Set<string>> {
	if (finished.length === 0) return new Set();
	const now = clock.now();
	const logs: LogEntry[] = [];
	const plans = finished.map(({ job, outcome, logs: lines }): Plan => {
		for (const message of (lines ?? []).slice(0, MAX_HANDLER_LOGS)) logs.push({ jobId: job.id, level: "info", message });
		const base = { id: job.id, version: job.version };
		if (outcome.kind === "cancelled") return { job, outcome: { ...base, status: "cancelled", error: outcome.reason } };
		const next = nextStateAfter(outcome, job.attempts, job.max_retries, now, backoffMs(job.attempts, clock.random));
		if (next.status === "completed") {
			return { job, outcome: { ...base, status: "completed", result: JSON.stringify(outcome.kind === "completed" ? (outcome.result ?? null) : null), error: null } };
		}
		const error = outcome.kind === "failed" ? outcome.error : "failed";
		logs.push({ jobId: job.id, level: next.status === "dead" ? "error" : "warn", message: `attempt ${job.attempts} failed: ${error}` });
		if (next.status === "dead") return { job, outcome: { ...base, status: "dead", error } };
		return { job, outcome: { ...base, status: "failed", error, readyAt: next.readyAt } };
	});
	const updates = outcomeStatements(env.DB, plans.map((p) => p.outcome), now);
	const results = await env.DB.batch([...updates, ...logStatements(env.DB, logs, now)]);
	const applied = new Set<string>();
	for (const r of results.slice(0, updates.length)) {
		for (const row of r.results as { id: string }[]) applied.add(row.id);
	}
	const tokens: TokenRequest[] = [];
	for (const { job, outcome } of plans) {
		if (!applied.has(job.id)) continue;
		if (outcome.status === "failed" && job.runner === "queue" && typeof outcome.readyAt === "number") {
			tokens.push({ tenantId: job.tenant_id, jobId: job.id, readyAt: outcome.readyAt });
		}
	}
	await sendRunTokens(env, tokens, now);
	for (const { job, outcome } of plans) {
		if (!applied.has(job.id) || job.has_dependents === 0) continue;
		if (outcome.status === "completed") await releaseDependents(env, job.id, now);
		if (outcome.status === "dead" || outcome.status === "cancelled") await cancelDependents(env, job.id, `dependency ${job.id} ended ${outcome.status}`, now);
	}
	return applied;
}

/** One dependency completed: each waiting dependent counts it, and is queued at zero. */
export async function releaseDependents(env: Env, jobId: string, now: number): Promise<void> {
	const dependents = await findDependents(env.DB, jobId);
	if (dependents.length === 0) return;
	const results = await env.DB.batch(
		dependents.map((id) =>
			env.DB.prepare(
				`UPDATE jobs SET pending_deps = pending_deps - 1, updated_at = ?1, version = version + 1,
				   status = CASE WHEN pending_deps - 1 <= 0 THEN (CASE WHEN ready_at > ?1 THEN 'scheduled' ELSE 'queued' END) ELSE status END
				 WHERE id = ?2 AND status = 'waiting' RETURNING id, tenant_id, runner, status, ready_at`,
			).bind(now, id),
		),
	);
	const tokens: TokenRequest[] = [];
	for (const r of results) {
		for (const row of r.results as { id: string; tenant_id: string; runner: string; status: string; ready_at: number }[]) {
			if (row.status !== "waiting" && row.runner === "queue") tokens.push({ tenantId: row.tenant_id, jobId: row.id, readyAt: Math.max(now, row.ready_at) });
		}
	}
	await sendRunTokens(env, tokens, now);
}

/** A dependency ended dead or cancelled: its waiting dependents (and theirs) are cancelled with a reason. */
export async function cancelDependents(env: Env, jobId: string, reason: string, now: number): Promise<void> {
	const pending = [{ id: jobId, reason }];
	for (let step = 0; step < 1_000 && pending.length > 0; step++) {
		const next = pending.shift();
		if (!next) break;
		const dependents = await findDependents(env.DB, next.id);
		if (dependents.length === 0) continue;
		const results = await env.DB.batch(
			dependents.flatMap((id) => [
				env.DB.prepare(
					`UPDATE jobs SET status = 'cancelled', error = ?1, completed_at = ?2, updated_at = ?2, version = version + 1
					 WHERE id = ?3 AND status = 'waiting' RETURNING id, has_dependents`,
				).bind(next.reason, now, id),
			]),
		);
		for (const r of results) {
			for (const row of r.results as { id: string; has_dependents: number }[]) {
				if (row.has_dependents) pending.push({ id: row.id, reason: `dependency ${row.id} ended cancelled` });
			}
		}
	}
}
