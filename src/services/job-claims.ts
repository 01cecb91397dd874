import type { JobRow } from "../db/jobs";
import { claimReady } from "../db/jobs";
import { PRIORITY_PATTERN, splitClaims } from "../domain/job-priority";
import { PRIORITIES } from "../domain/jobs";

// Where each tenant's weighted round-robin stands, per isolate (plain numbers, no I/O objects):
// successive claims continue the 5:3:1 pattern instead of restarting it at "high" every time.
const cursors = new Map<string, number>();

export type ClaimRequest = { tenantId: string; runner: "queue" | "external"; types: string[] | null; n: number; now: number; claimedBy: string };

/**
 * Claims up to `n` ready jobs weighted high : medium : low = 5 : 3 : 1. A priority with fewer
 * ready jobs than its share leaves the rest to the others, so capacity is never idle.
 */
export async function claimWeighted(db: D1Database, req: ClaimRequest): Promise<JobRow[]> {
	const key = `${req.tenantId}|${req.runner}`;
	const offset = cursors.get(key) ?? 0;
	const share = splitClaims(req.n, offset);
	const claimed: JobRow[] = [];
	let shortfall = 0;
	const exhausted = new Set<string>();
	for (const priority of PRIORITIES) {
		const want = share[priority] + shortfall;
		const rows = await claimReady(db, { ...req, priority, limit: want });
		claimed.push(...rows);
		shortfall = want - rows.length;
		if (rows.length < want) exhausted.add(priority);
	}
	for (const priority of PRIORITIES) {
		if (shortfall <= 0) break;
		if (exhausted.has(priority)) continue;
		const rows = await claimReady(db, { ...req, priority, limit: shortfall });
		claimed.push(...rows);
		shortfall -= rows.length;
	}
	if (cursors.size > 10_000) cursors.clear();
	cursors.set(key, (offset + req.n) % PRIORITY_PATTERN.length);
	return claimed;
}
