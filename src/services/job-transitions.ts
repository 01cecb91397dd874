import type { JobRow } from "../db/jobs";
import { logStatement, transitionStatement } from "../db/jobs";
import { findDependents } from "../db/job-dependencies";
import { backoffMs } from "../domain/job-backoff";
import type { AttemptOutcome } from "../domain/jobs";
import { nextStateAfter } from "../domain/jobs";
import type { TokenRequest } from "./job-tokens";
import { sendRunTokens } from "./job-tokens";

export type FinishedAttempt = { job: JobRow; outcome: AttemptOutcome | { kind: "cancelled"; reason: string } };

export type Clock = { now: () => number; random: () => number };
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), random: () => Math.random() };

/**
 * Records the end of claimed attempts in one DB.batch of compare-and-set updates (a job changed
 * meanwhile — cancelled, taken back — keeps that change), then sends retry tokens and settles
 * dependents. Returns the ids whose transition applied.
 */
export async function finishAttempts(env: Env, finished: FinishedAttempt[], clock: Clock = SYSTEM_CLOCK): Promise<Set<string>> {
	if (finished.length === 0) return new Set();
	const now = clock.now();
	const statements: D1PreparedStatement[] = [];
	const plans = finished.map(({ job, outcome }) => {
		if (outcome.kind === "cancelled") {
			return { job, status: "cancelled" as const, stmt: transitionStatement(env.DB, { id: job.id, version: job.version, status: "cancelled", now, error: outcome.reason, finished: true }) };
		}
		const next = nextStateAfter(outcome, job.attempts, job.max_retries, now, backoffMs(job.attempts, clock.random));
		if (next.status === "completed") {
			return { job, status: next.status, stmt: transitionStatement(env.DB, { id: job.id, version: job.version, status: "completed", now, result: JSON.stringify(outcome.kind === "completed" ? (outcome.result ?? null) : null), error: null, progress: 1, finished: true }) };
		}
		const error = outcome.kind === "failed" ? outcome.error : "failed";
		statements.push(logStatement(env.DB, job.id, now, next.status === "dead" ? "error" : "warn", `attempt ${job.attempts} failed: ${error}`));
		if (next.status === "dead") {
			return { job, status: next.status, stmt: transitionStatement(env.DB, { id: job.id, version: job.version, status: "dead", now, error, finished: true }) };
		}
		return { job, status: next.status, readyAt: next.readyAt, stmt: transitionStatement(env.DB, { id: job.id, version: job.version, status: "failed", now, error, readyAt: next.readyAt }) };
	});
	const results = await env.DB.batch([...plans.map((p) => p.stmt), ...statements]);
	const applied = new Set<string>();
	const tokens: TokenRequest[] = [];
	for (const [i, plan] of plans.entries()) {
		if ((results[i]?.meta.changes ?? 0) === 0) continue;
		applied.add(plan.job.id);
		if (plan.status === "failed" && plan.job.runner === "queue" && plan.readyAt !== undefined) {
			tokens.push({ tenantId: plan.job.tenant_id, jobId: plan.job.id, readyAt: plan.readyAt });
		}
	}
	await sendRunTokens(env, tokens, now);
	for (const plan of plans) {
		if (!applied.has(plan.job.id) || plan.job.has_dependents === 0) continue;
		if (plan.status === "completed") await releaseDependents(env, plan.job.id, now);
		if (plan.status === "dead" || plan.status === "cancelled") await cancelDependents(env, plan.job.id, `dependency ${plan.job.id} ended ${plan.status}`, now);
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
