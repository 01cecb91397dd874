import type { JobRow } from "./db";
import { chunkJsonRows } from "../platform/sql-db";

/**
 * The dependency writes of new jobs, in one transaction after their rows: the edges (only for a
 * job whose row exists — it is skipped when it lost its dedupe key), the dependents flag on the
 * jobs depended on, and a recount of each new waiting job's unfinished dependencies, so one that
 * completed after it was read (before the edge existed) is not waited for forever; a job is queued
 * or scheduled at zero. Each is one statement per JSON chunk (≤ 2 bound parameters), however many
 * jobs and edges. The recount RETURNs id, status and runner of the jobs that were waiting.
 */
export function dependencyStatements(
	db: D1Database,
	jobs: readonly { jobId: string; dependsOn: readonly string[] }[],
	now: number,
): D1PreparedStatement[] {
	const withDeps = jobs.filter((j) => j.dependsOn.length > 0);
	if (withDeps.length === 0) return [];
	const edges = withDeps.flatMap((j) => j.dependsOn.map((d) => [j.jobId, d]));
	const ids = chunkJsonRows(withDeps.map((j) => j.jobId));
	return [
		...chunkJsonRows(edges).map((json) =>
			db
				.prepare(
					`INSERT OR IGNORE INTO job_dependencies (job_id, depends_on)
					 SELECT value ->> 0, value ->> 1 FROM json_each(?1) WHERE EXISTS (SELECT 1 FROM jobs WHERE id = value ->> 0)`,
				)
				.bind(json),
		),
		...ids.map((json) =>
			db
				.prepare(
					`UPDATE jobs SET has_dependents = 1 WHERE has_dependents = 0
					   AND id IN (SELECT depends_on FROM job_dependencies WHERE job_id IN (SELECT value FROM json_each(?1)))`,
				)
				.bind(json),
		),
		...ids.map((json) =>
			db
				.prepare(
					`UPDATE jobs SET pending_deps = (SELECT COUNT(*) FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = jobs.id AND p.status != 'completed'),
					   status = CASE WHEN (SELECT COUNT(*) FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = jobs.id AND p.status != 'completed') = 0
					     THEN (CASE WHEN ready_at > ?2 THEN 'scheduled' ELSE 'queued' END) ELSE 'waiting' END
					 WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'waiting' RETURNING id, status, runner`,
				)
				.bind(json, now),
		),
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

/**
 * Repair of a lost release: waiting jobs untouched since `before` whose dependencies have all
 * completed (or that have none left) are queued, or scheduled if not yet ready; at most `limit`.
 */
export async function releaseSettledWaiting(
	db: D1Database,
	before: number,
	now: number,
	limit: number,
): Promise<ReleasedJob[]> {
	const { results } = await db
		.prepare(
			`UPDATE jobs SET pending_deps = 0, updated_at = ?1, version = version + 1,
			   status = CASE WHEN ready_at > ?1 THEN 'scheduled' ELSE 'queued' END
			 WHERE id IN (
			   SELECT j.id FROM jobs j WHERE j.status = 'waiting' AND j.updated_at < ?2
			     AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on
			                     WHERE d.job_id = j.id AND p.status != 'completed')
			   LIMIT ?3)
			 RETURNING id, tenant_id, runner, status, ready_at`,
		)
		.bind(now, before, limit)
		.all<ReleasedJob>();
	return results;
}

/**
 * Repair of a lost cancel: waiting jobs untouched since `before` with a dependency that ended dead
 * or cancelled are cancelled, the reason naming that dependency; at most `limit`.
 */
export async function cancelBrokenWaiting(
	db: D1Database,
	before: number,
	now: number,
	limit: number,
): Promise<CancelledJob[]> {
	const { results } = await db
		.prepare(
			`UPDATE jobs SET status = 'cancelled', completed_at = ?1, updated_at = ?1, version = version + 1,
			   error = (SELECT 'dependency ' || p.id || ' ended ' || p.status FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on
			            WHERE d.job_id = jobs.id AND p.status IN ('dead', 'cancelled') LIMIT 1)
			 WHERE id IN (
			   SELECT j.id FROM jobs j WHERE j.status = 'waiting' AND j.updated_at < ?2
			     AND EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on
			                 WHERE d.job_id = j.id AND p.status IN ('dead', 'cancelled'))
			   LIMIT ?3)
			 RETURNING id, has_dependents`,
		)
		.bind(now, before, limit)
		.all<CancelledJob>();
	return results;
}
