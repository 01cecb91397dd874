import { findExpiredClaims } from "./claims-db";
import { findStaleRunnable } from "./db";
import type { Clock } from "./transitions";
import { SYSTEM_CLOCK, finishAttempts } from "./transitions";
import { sendRunTokens } from "./tokens";
import { repairOverdueSchedules } from "./schedules/repair";
import { repairDependents } from "./dependency-repair";

const SWEEP_LIMIT = 500;
/** A runnable job this far past its ready time without being claimed gets a fresh run token. */
const STALE_READY_MS = 60_000;

/**
 * Runs from the cron trigger. (1) Visibility timeout: a processing job whose claim expired (no
 * heartbeat, or a consumer that died) is failed — the attempt counts — and retried or killed.
 * (2) Runnable queue jobs left unclaimed (a token lost after D1 accepted the job) get a new token.
 * (3) Schedules overdue by more than two minutes (alarm lost, or never set) are armed again.
 * (4) Waiting jobs whose release or cancel was lost are released or cancelled (bounded batches).
 */
export async function sweepJobs(
	env: Env,
	clock: Clock = SYSTEM_CLOCK,
): Promise<{ expired: number; retokened: number; schedules: number; released: number; cancelled: number }> {
	const now = clock.now();
	const expired = await findExpiredClaims(env.DB, now, SWEEP_LIMIT);
	const applied = await finishAttempts(
		env,
		expired.map((job) => ({
			job,
			outcome: {
				kind: "failed" as const,
				error: "visibility timeout: no heartbeat or completion before the job's timeout",
				retry: true,
			},
		})),
		clock,
	);
	const stale = await findStaleRunnable(env.DB, now - STALE_READY_MS, SWEEP_LIMIT);
	await sendRunTokens(
		env,
		stale.map((r) => ({ tenantId: r.tenant_id, jobId: r.id, readyAt: now })),
		now,
	);
	const schedules = await repairOverdueSchedules(env, now);
	const { released, cancelled } = await repairDependents(env, now);
	return { expired: applied.size, retokened: stale.length, schedules, released, cancelled };
}
