import type { JobRow } from "./db";

export type DepthRow = Pick<JobRow, "type" | "priority" | "status"> & { n: number };
export type OldestRow = Pick<JobRow, "type" | "priority"> & { oldest: number };
export type FinishedRow = Pick<JobRow, "type" | "priority" | "status" | "attempts" | "started_at"> & {
	completed_at: number;
};

/** Jobs not yet finished, counted per type, priority and status. */
export async function countUnfinished(db: D1Database, tenantId: string): Promise<DepthRow[]> {
	const { results } = await db
		.prepare(
			"SELECT type, priority, status, COUNT(*) AS n FROM jobs WHERE tenant_id = ? AND status IN ('queued', 'scheduled', 'waiting', 'processing', 'failed') GROUP BY type, priority, status",
		)
		.bind(tenantId)
		.all<DepthRow>();
	return results;
}

/** Per type and priority, the oldest ready time among runnable jobs already due at `now`. */
export async function findOldestReady(db: D1Database, tenantId: string, now: number): Promise<OldestRow[]> {
	const { results } = await db
		.prepare(
			"SELECT type, priority, MIN(ready_at) AS oldest FROM jobs WHERE tenant_id = ? AND status IN ('queued', 'scheduled', 'failed') AND ready_at <= ? GROUP BY type, priority",
		)
		.bind(tenantId, now)
		.all<OldestRow>();
	return results;
}

/** Jobs that ended completed or dead since `since` (at most 50,000). */
export async function listFinishedSince(db: D1Database, tenantId: string, since: number): Promise<FinishedRow[]> {
	const { results } = await db
		.prepare(
			"SELECT type, priority, status, attempts, started_at, completed_at FROM jobs WHERE tenant_id = ? AND completed_at >= ? AND status IN ('completed', 'dead') LIMIT 50000",
		)
		.bind(tenantId, since)
		.all<FinishedRow>();
	return results;
}
