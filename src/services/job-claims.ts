import type { ClaimedJob } from "../db/jobs";
import { CLAIM_PAYLOAD_BUDGET, claimReady } from "../db/jobs";
import { PRIORITY_PATTERN, splitClaims } from "../domain/job-priority";
import type { Priority } from "../domain/jobs";
import { MAX_PAYLOAD_BYTES, PRIORITIES } from "../domain/jobs";

// Where each tenant's weighted round-robin stands, per isolate (plain numbers, no I/O objects):
// successive claims continue the 5:3:1 pattern instead of restarting it at "high" every time.
const cursors = new Map<string, number>();

export type ClaimRequest = { tenantId: string; runner: "queue" | "external"; types: string[] | null; n: number; now: number; claimedBy: string; budget?: number };

/** `maybeMore`: false only when every priority had fewer ready jobs than asked, so none are left. */
export type WeightedClaim = { jobs: ClaimedJob[]; maybeMore: boolean };

/**
 * Claims up to `n` ready jobs weighted high : medium : low = 5 : 3 : 1. A priority with fewer
 * ready jobs than its share leaves the rest to the others, so capacity is never idle.
 */
export async function claimWeighted(db: D1Database, req: ClaimRequest): Promise<WeightedClaim> {
	const key = `${req.tenantId}|${req.runner}`;
	const offset = cursors.get(key) ?? 0;
	const share = splitClaims(req.n, offset);
	const budget = req.budget ?? CLAIM_PAYLOAD_BUDGET;
	const claimed: ClaimedJob[] = [];
	let shortfall = 0;
	let maybeMore = false;
	const exhausted = new Set<string>();
	const take = async (priority: Priority, limit: number): Promise<number> => {
		const { jobs, payloadChars } = await claimReady(db, { ...req, priority, limit, budget });
		claimed.push(...jobs);
		// Short because of the payload budget, not because the priority ran dry: more may be ready.
		if (jobs.length === limit || payloadChars + MAX_PAYLOAD_BYTES > budget) maybeMore = true;
		if (jobs.length < limit) exhausted.add(priority);
		return jobs.length;
	};
	for (const priority of PRIORITIES) {
		const want = share[priority] + shortfall;
		shortfall = want - (await take(priority, want));
	}
	for (const priority of PRIORITIES) {
		if (shortfall <= 0) break;
		if (exhausted.has(priority)) continue;
		shortfall -= await take(priority, shortfall);
	}
	if (cursors.size > 10_000) cursors.clear();
	cursors.set(key, (offset + req.n) % PRIORITY_PATTERN.length);
	return { jobs: claimed, maybeMore: maybeMore && claimed.length > 0 };
}
