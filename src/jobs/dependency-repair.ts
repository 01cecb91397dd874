import { cancelBrokenWaiting, releaseSettledWaiting } from "./dependencies-db";
import { cancelDependents } from "./transitions";
import type { TokenRequest } from "./tokens";
import { sendRunTokens } from "./tokens";

/** A waiting job untouched this long is looked at (the normal path settles it at once). */
export const SETTLE_GRACE_MS = 60_000;
/** Jobs released and jobs cancelled per sweep (one statement each). */
const REPAIR_LIMIT = 100;
/** Levels of dependents the sweep cancels below the jobs it cancelled (two queries a level). */
const SWEEP_CANCEL_LEVELS = 20;

/**
 * The sweeper's repair of dependents whose release or cancel was lost (the transition that ended
 * their dependency committed, then the follow-up failed or stopped at its inline levels): a
 * waiting job whose dependencies all completed is released, one with a dead or cancelled
 * dependency is cancelled, and so are its own dependents, up to SWEEP_CANCEL_LEVELS levels.
 */
export async function repairDependents(env: Env, now: number): Promise<{ released: number; cancelled: number }> {
	const before = now - SETTLE_GRACE_MS;
	const released = await releaseSettledWaiting(env.DB, before, now, REPAIR_LIMIT);
	const tokens = released.flatMap((job): TokenRequest[] =>
		job.runner === "queue" && job.status !== "waiting"
			? [{ tenantId: job.tenant_id, jobId: job.id, readyAt: Math.max(now, job.ready_at) }]
			: [],
	);
	await sendRunTokens(env, tokens, now);
	const cancelled = await cancelBrokenWaiting(env.DB, before, now, REPAIR_LIMIT);
	const roots = cancelled
		.filter((job) => job.has_dependents)
		.map((job) => ({ id: job.id, reason: `dependency ${job.id} ended cancelled` }));
	await cancelDependents(env, roots, now, SWEEP_CANCEL_LEVELS);
	return { released: released.length, cancelled: cancelled.length };
}
