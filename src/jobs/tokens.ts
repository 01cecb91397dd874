import { z } from "zod";
import { QUEUE_MAX_DELAY_SECONDS } from "./domain";

/** The most jobs one run token stands for: a bulk enqueue of 100 sends one token. */
export const MAX_TOKEN_COUNT = 100;

/**
 * A run token: "up to `count` jobs of this tenant may be ready" (count 1 when absent; `job_id`
 * names the job a single token was sent for, for operators). The consumer claims jobs from D1 by
 * priority rather than running named jobs, so a backlog is served 5:3:1 by priority
 * (src/jobs/priority.ts). Every transition to runnable adds one unit to a token arriving no
 * earlier than the job's ready time, so token units always cover the runnable jobs; surplus units
 * (the job was claimed through another token) claim nothing and are harmless.
 */
export const runTokenSchema = z
	.object({
		tenant_id: z.string().min(1),
		job_id: z.string().min(1).optional(),
		count: z.number().int().min(1).max(MAX_TOKEN_COUNT).optional(),
	})
	.strict();
export type RunToken = z.infer<typeof runTokenSchema>;

export type TokenRequest = { tenantId: string; jobId: string; readyAt: number };

const MAX_SEND_BATCH = 100;

/** How many job units a token stands for. */
export function tokenUnits(token: RunToken): number {
	return token.count ?? 1;
}

/**
 * Folds per-job requests into tokens: jobs of one tenant due in the same second share a token of
 * up to MAX_TOKEN_COUNT units (a token may arrive a little late, never early). Delays beyond the
 * Queues maximum are returned apart, one per job, for a JobTimer alarm.
 */
export function planRunTokens(
	requests: readonly TokenRequest[],
	now: number,
): { direct: MessageSendRequest<RunToken>[]; timers: TokenRequest[] } {
	const groups = new Map<string, { tenantId: string; delaySeconds: number; jobIds: string[] }>();
	const timers: TokenRequest[] = [];
	for (const r of requests) {
		const delaySeconds = Math.max(0, Math.ceil((r.readyAt - now) / 1000));
		if (delaySeconds > QUEUE_MAX_DELAY_SECONDS) {
			timers.push(r);
			continue;
		}
		const key = `${delaySeconds}|${r.tenantId}`;
		const group = groups.get(key) ?? { tenantId: r.tenantId, delaySeconds, jobIds: [] };
		group.jobIds.push(r.jobId);
		groups.set(key, group);
	}
	const direct: MessageSendRequest<RunToken>[] = [];
	for (const g of groups.values()) {
		for (let i = 0; i < g.jobIds.length; i += MAX_TOKEN_COUNT) {
			const ids = g.jobIds.slice(i, i + MAX_TOKEN_COUNT);
			const body: RunToken =
				ids.length === 1 && ids[0] !== undefined
					? { tenant_id: g.tenantId, job_id: ids[0] }
					: { tenant_id: g.tenantId, count: ids.length };
			direct.push({ body, ...(g.delaySeconds > 0 ? { delaySeconds: g.delaySeconds } : {}) });
		}
	}
	return { direct, timers };
}

/**
 * Sends tokens covering these jobs, delayed until their ready time; delays beyond the Queues
 * maximum are kept by a JobTimer Durable Object alarm instead.
 */
export async function sendRunTokens(env: Env, requests: TokenRequest[], now: number): Promise<void> {
	const { direct, timers } = planRunTokens(requests, now);
	for (let i = 0; i < direct.length; i += MAX_SEND_BATCH) {
		await env.JOBS_QUEUE.sendBatch(direct.slice(i, i + MAX_SEND_BATCH));
	}
	await Promise.all(timers.map((r) => env.JOB_TIMER.getByName(r.jobId).arm(r.tenantId, r.jobId, r.readyAt)));
}

/** Sends tokens for `units` jobs of a tenant (units a consumer could not use), after `delaySeconds`. */
export async function sendUnitTokens(env: Env, tenantId: string, units: number, delaySeconds = 0): Promise<void> {
	const direct: MessageSendRequest<RunToken>[] = [];
	for (let left = units; left > 0; left -= MAX_TOKEN_COUNT) {
		direct.push({
			body: { tenant_id: tenantId, count: Math.min(MAX_TOKEN_COUNT, left) },
			...(delaySeconds > 0 ? { delaySeconds } : {}),
		});
	}
	for (let i = 0; i < direct.length; i += MAX_SEND_BATCH) {
		await env.JOBS_QUEUE.sendBatch(direct.slice(i, i + MAX_SEND_BATCH));
	}
}
