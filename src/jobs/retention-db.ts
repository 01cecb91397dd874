import { deleteOldestRows } from "../platform/sql-db";
/**
 * Retention of the jobs feature (src/jobs/retention.ts): finished jobs (completed, dead, cancelled)
 * with their logs and dependency edges, and the jobs DLQ's dead letters. Each statement removes at
 * most `limit` rows, oldest first; children go before their job (foreign keys).
 */

const FINISHED = "status IN ('completed', 'dead', 'cancelled')";

/** Logs of jobs that finished before `cutoff`. */
export async function purgeExpiredJobLogs(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM job_logs WHERE id IN (SELECT l.id FROM jobs j JOIN job_logs l ON l.job_id = j.id
 WHERE j.${FINISHED} AND j.completed_at < ? ORDER BY j.completed_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

/** Dependency edges whose two jobs both finished before `cutoff` (an edge to a live job stays). */
export async function purgeExpiredJobEdges(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM job_dependencies WHERE rowid IN (SELECT d.rowid FROM job_dependencies d
 JOIN jobs a ON a.id = d.depends_on JOIN jobs b ON b.id = d.job_id
 WHERE a.${FINISHED} AND a.completed_at < ?1 AND b.${FINISHED} AND b.completed_at < ?1 LIMIT ?2)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

/** Jobs that finished before `cutoff` and have no logs or edges left (those go first). */
export async function purgeExpiredJobs(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM jobs WHERE rowid IN (SELECT j.rowid FROM jobs j WHERE j.${FINISHED} AND j.completed_at < ?
 AND NOT EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = j.id)
 AND NOT EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id OR d.depends_on = j.id)
 ORDER BY j.completed_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

export async function purgeExpiredJobDeadLetters(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "job_dead_letters", "received_at", cutoff, limit);
}
