import type { JobInsert } from "./batches-db";
import { insertJobsStatements } from "./batches-db";
import type { JobRow } from "./db";
import { dependencyStatements } from "./dependencies-db";

/** A job to create, and the jobs it waits for (none for a job cancelled at birth). */
export type NewJob = { row: JobInsert; dependsOn: readonly string[] };
export type WrittenJob = Pick<JobRow, "id" | "status" | "runner">;

/**
 * Writes a tenant's new jobs in one transaction: their rows first, then all their dependency
 * edges, the dependents flags and the recount of unfinished dependencies, each as one statement
 * per JSON chunk (a bulk of 100 jobs × 20 dependencies is a handful of statements, not 300). A job whose dedupe key a live job took
 * meanwhile is not written, and neither are its edges. Returns the written jobs by id, with their
 * status after the transaction.
 */
export async function writeNewJobs(
	db: D1Database,
	tenantId: string,
	jobs: readonly NewJob[],
	now: number,
): Promise<Map<string, WrittenJob>> {
	if (jobs.length === 0) return new Map();
	const statements = [
		...insertJobsStatements(
			db,
			tenantId,
			jobs.map((j) => j.row),
			now,
		),
		...dependencyStatements(
			db,
			jobs.map(({ row, dependsOn }) => ({ jobId: row.id, dependsOn })),
			now,
		),
	];
	// Inserts and recounts RETURN (id, status, runner), edges nothing: in batch order, the last row
	// of an id is that job's state once the transaction is done.
	const results = await db.batch<WrittenJob>(statements);
	const written = new Map<string, WrittenJob>();
	for (const row of results.flatMap((r) => r.results)) written.set(row.id, row);
	return written;
}
