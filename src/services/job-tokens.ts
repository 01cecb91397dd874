import { z } from "zod";
import { QUEUE_MAX_DELAY_SECONDS } from "../domain/jobs";

/**
 * A run token: "one job of this tenant may be ready". The consumer claims jobs from D1 by
 * priority rather than running the token's own job, so a backlog is served 5:3:1 by priority
 * (src/domain/job-priority.ts). Every transition to runnable sends one token arriving no earlier
 * than the job's ready time, so there are always at least as many tokens as runnable jobs.
 */
export const runTokenSchema = z.object({ tenant_id: z.string().min(1), job_id: z.string().min(1) }).strict();
export type RunToken = z.infer<typeof runTokenSchema>;

export type TokenRequest = { tenantId: string; jobId: string; readyAt: number };

const MAX_SEND_BATCH = 100;

/**
 * Sends one token per job, delayed until its ready time; delays beyond the Queues maximum are
 * kept by a JobTimer Durable Object alarm instead.
 */
export async function sendRunTokens(env: Env, requests: TokenRequest[], now: number): Promise<void> {
	const direct: MessageSendRequest<RunToken>[] = [];
	const timers: Promise<void>[] = [];
	for (const r of requests) {
		const delaySeconds = Math.max(0, Math.ceil((r.readyAt - now) / 1000));
		if (delaySeconds > QUEUE_MAX_DELAY_SECONDS) {
			timers.push(env.JOB_TIMER.getByName(r.jobId).arm(r.tenantId, r.jobId, r.readyAt));
			continue;
		}
		direct.push({ body: { tenant_id: r.tenantId, job_id: r.jobId }, ...(delaySeconds > 0 ? { delaySeconds } : {}) });
	}
	for (let i = 0; i < direct.length; i += MAX_SEND_BATCH) {
		await env.JOBS_QUEUE.sendBatch(direct.slice(i, i + MAX_SEND_BATCH));
	}
	await Promise.all(timers);
}
