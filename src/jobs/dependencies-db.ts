import type { JobRow } from "./db";
import { chunkJsonRows } from "./batches-db";

/**
 * The edges from a new job to the jobs it depends on, and the dependents flag on those. Both apply
 * only if the job row exists in the same transaction (it is skipped when it lost its dedupe key).
 */
export function insertDependencyStatements(
	db: D1Database,
	jobId: string,
	dependsOn: readonly string[],
): D1PreparedStatement[] {
	const ids = JSON.stringify(dependsOn);
	return [
		db
			.prepare(
				"INSERT OR IGNORE INTO job_dependencies (job_id, depends_on) SELECT ?1, value FROM json_each(?2) WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1)",
			)
			.bind(jobId, ids),
		db
			.prepare(
				"UPDATE jobs SET has_dependents = 1 WHERE id IN (SELECT value FROM json_each(?2)) AND EXISTS (SELECT 1 FROM jobs WHERE id = ?1)",
			)
			.bind(jobId, ids),
	];
}

export type DependencyEdge = { job_id: string; depends_on: string };

/** The edges from jobs waiting on any of `jobIds` (ids travel as one JSON parameter per statement). */
export async function findDependentsOf(db: D1Database, jobIds: readonly string[]): Promise<DependencyEdge[]> {
	const edges: DependencyEdge[] = [];
	for (const json of chunkJsonRows(jobIds)) {
		const { results } = await db
			.prepare("SELECT job_id, depends_on FROM job_dependencies WHERE depends_on IN (SELECT value FROM json_each(?1))")
			.bind(json)
			.all<DependencyEdge>();
		edges.push(...results);
	}
	return edges;
}

/**
 * Recounts a new job's unfinished dependencies inside the enqueue's transaction, so a dependency
 * that completed after it was read (before the edge existed) is not waited for forever; queues or
 * schedules the job at zero. RETURNs its id, status and runner when it was still waiting.
 */
export function recountPendingStatement(db: D1Database, jobId: string, now: number): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE jobs SET pending_deps = (SELECT COUNT(*) FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = ?1 AND p.status != 'completed'),
			   status = CASE WHEN (SELECT COUNT(*) FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = ?1 AND p.status != 'completed') = 0
			     THEN (CASE WHEN ready_at > ?2 THEN 'scheduled' ELSE 'queued' END) ELSE 'waiting' END
			 WHERE id = ?1 AND status = 'waiting' RETURNING id, status, runner`,
		)
		.bind(jobId, now);
}

export type ReleasedJob = Pick<JobRow, "id" | "tenant_id" | "runner" | "status" | "ready_at">;

/**
 * Waiting jobs count down the dependencies that completed (`counts`: job id → how many of its
 * dependencies did), and are queued (or scheduled) at zero. One multi-row update per JSON chunk;
 * returns every job it touched, still waiting or not.
 */
export async function releaseWaiting(
	db: D1Database,
	counts: readonly (readonly [string, number])[],
	now: number,
): Promise<ReleasedJob[]> {
	const results = await db.batch<ReleasedJob>(
		chunkJsonRows(counts).map((json) =>
			db
				.prepare(
					`UPDATE jobs SET pending_deps = jobs.pending_deps - d.n, updated_at = ?1, version = jobs.version + 1,
					   status = CASE WHEN jobs.pending_deps - d.n <= 0 THEN (CASE WHEN jobs.ready_at > ?1 THEN 'scheduled' ELSE 'queued' END) ELSE jobs.status END
					 FROM (SELECT value ->> 0 AS id, value ->> 1 AS n FROM json_each(?2)) AS d
					 WHERE jobs.id = d.id AND jobs.status = 'waiting'
					 RETURNING jobs.id AS id, jobs.tenant_id AS tenant_id, jobs.runner AS runner, jobs.status AS status, jobs.ready_at AS ready_at`,
				)
				.bind(now, json),
		),
	);
	return results.flatMap((r) => r.results);
}

export type CancelledJob = Pick<JobRow, "id" | "has_dependents">;

/** Cancels waiting jobs with a reason each (`reasons`: job id → reason); returns those cancelled. */
export async function cancelWaiting(
	db: D1Database,
	reasons: readonly (readonly [string, string])[],
	now: number,
): Promise<CancelledJob[]> {
	const results = await db.batch<CancelledJob>(
		chunkJsonRows(reasons).map((json) =>
			db
				.prepare(
					`UPDATE jobs SET status = 'cancelled', error = d.r, completed_at = ?1, updated_at = ?1, version = jobs.version + 1
					 FROM (SELECT value ->> 0 AS id, value ->> 1 AS r FROM json_each(?2)) AS d
					 WHERE jobs.id = d.id AND jobs.status = 'waiting'
					 RETURNING jobs.id AS id, jobs.has_dependents AS has_dependents`,
				)
				.bind(now, json),
		),
	);
	return results.flatMap((r) => r.results);
}
