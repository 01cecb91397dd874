import type { ClaimedJob } from "./claims-db";
import { CLAIM_PAYLOAD_BUDGET, claimReady } from "./claims-db";
import { PRIORITY_PATTERN, slotPositions } from "./priority";
import { MAX_PAYLOAD_BYTES } from "./domain";
import { TtlCache } from "../platform/ttl-cache";
import type { TakenBack } from "./claims-db";
import { cancelDependents } from "./transitions";
import { sendRunTokens } from "./tokens";

// Where each tenant's weighted round-robin stands, per isolate (plain numbers, no I/O objects):
// successive claims continue the 5:3:1 pattern instead of restarting it at "high" every time.
// A cursor forgotten (idle tenant, or evicted) only restarts the pattern.
const cursors = new TtlCache<string, number>({ ttlMs: 10 * 60_000, maxEntries: 10_000 });

export type ClaimRequest = {
	tenantId: string;
	runner: "queue" | "external";
	types: string[] | null;
	n: number;
	now: number;
	claimedBy: string;
	budget?: number;
};

/** `maybeMore`: false when fewer than `n` jobs were ready, so none are left right now. */
export type WeightedClaim = { jobs: ClaimedJob[]; maybeMore: boolean };

/**
 * Claims up to `n` ready jobs weighted high : medium : low = 5 : 3 : 1, in one statement. A
 * priority with fewer ready jobs than its share leaves the rest to the others, so capacity is
 * never idle. Expired claims of the same tenant, runner (and types) are taken back first, in the
 * same transaction (visibility timeout at claim time): failed and runnable at once, or dead past
 * max_retries (their dependents then cancelled); a queue job taken back but not claimed here gets
 * a run token.
 */
export async function claimWeighted(env: Env, req: ClaimRequest): Promise<WeightedClaim> {
	const db = env.DB;
	const key = `${req.tenantId}|${req.runner}`;
	const offset = cursors.get(key) ?? 0;
	const budget = req.budget ?? CLAIM_PAYLOAD_BUDGET;
	const { jobs, payloadChars, takenBack } = await claimReady(db, {
		tenantId: req.tenantId,
		runner: req.runner,
		types: req.types,
		limit: req.n,
		now: req.now,
		claimedBy: req.claimedBy,
		slots: slotPositions(offset),
		budget,
	});
	cursors.set(key, (offset + req.n) % PRIORITY_PATTERN.length);
	// Short because of the payload budget, not because nothing more was ready: more may be.
	const maybeMore = jobs.length === req.n || (jobs.length > 0 && payloadChars + MAX_PAYLOAD_BYTES > budget);
	if (takenBack.length > 0) await settleTakenBack(env, req, takenBack, new Set(jobs.map((j) => j.id)));
	return { jobs, maybeMore };
}

async function settleTakenBack(
	env: Env,
	req: ClaimRequest,
	takenBack: readonly TakenBack[],
	claimed: ReadonlySet<string>,
): Promise<void> {
	const unclaimed = takenBack.filter((t) => t.status === "failed" && t.runner === "queue" && !claimed.has(t.id));
	await sendRunTokens(
		env,
		unclaimed.map((t) => ({ tenantId: req.tenantId, jobId: t.id, readyAt: req.now })),
		req.now,
	);
	const dead = takenBack.filter((t) => t.status === "dead" && t.has_dependents);
	await cancelDependents(
		env,
		dead.map((t) => ({ id: t.id, reason: `dependency ${t.id} ended dead` })),
		req.now,
	);
}
