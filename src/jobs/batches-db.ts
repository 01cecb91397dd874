/**
 * Multi-row job writes that stay within D1's 100 bound parameters per statement however many rows
 * they carry: the rows travel as ONE JSON array parameter, unpacked in SQL with json_each. A
 * statement binds at most 13 parameters; rows are chunked so each JSON text stays well under D1's
 * 2 MB limit for a bound value (platform/sql-db.ts chunkJsonRows).
 */
import { chunkJsonRows } from "../platform/sql-db";

/** The end of one claimed attempt, as one row of a compare-and-set batch. */
export type Outcome = {
	id: string;
	/** The version the attempt was claimed at: the row is written only if it still has it. */
	version: number;
	status: "completed" | "failed" | "dead" | "cancelled";
	/** JSON text of the handler's result (completed only). */
	result?: string | null;
	error?: string | null;
	/** When a failed job may run again. */
	readyAt?: number | null;
};

export type LogEntry = { jobId: string; level: "info" | "warn" | "error"; message: string };

/**
 * Compare-and-set outcome writes, many jobs per statement: each row applies only where the job
 * still has the version it was claimed at (UPDATE … FROM json_each joins on id AND version), so a
 * cancel or a visibility take-back made meanwhile is never overwritten. RETURNING lists the ids
 * that applied. The same columns as `transitionStatement` for these four outcomes.
 */
export function outcomeStatements(db: D1Database, outcomes: readonly Outcome[], now: number): D1PreparedStatement[] {
	// Rows as arrays, not objects: SQLite's JSON extraction is the larger part of the cost per row.
	const rows = outcomes.map((o) => [o.id, o.version, o.status, o.result ?? null, o.error ?? null, o.readyAt ?? null]);
	return chunkJsonRows(rows).map((json) =>
		db
			.prepare(
				`UPDATE jobs SET status = d.s, updated_at = ?1, version = jobs.version + 1,
				   ready_at = COALESCE(d.a, jobs.ready_at),
				   result = CASE WHEN d.s = 'completed' THEN d.r ELSE jobs.result END,
				   error = d.e,
				   progress = CASE WHEN d.s = 'completed' THEN 1 ELSE jobs.progress END,
				   completed_at = CASE WHEN d.s IN ('completed', 'dead', 'cancelled') THEN ?1 ELSE jobs.completed_at END,
				   claim_expires_at = NULL
				 FROM (SELECT value ->> 0 AS id, value ->> 1 AS v, value ->> 2 AS s, value ->> 3 AS r, value ->> 4 AS e, value ->> 5 AS a FROM json_each(?2)) AS d
				 WHERE jobs.id = d.id AND jobs.version = d.v
				 RETURNING jobs.id AS id`,
			)
			.bind(now, json),
	);
}

/**
 * Writes the outcomes (compare-and-set, see `outcomeStatements`) and the log lines in one batch;
 * returns the ids whose outcome applied.
 */
export async function applyOutcomes(
	db: D1Database,
	outcomes: readonly Outcome[],
	logs: readonly LogEntry[],
	now: number,
): Promise<Set<string>> {
	// Log inserts RETURN no rows, so every row of the batch is an applied outcome's id.
	const results = await db.batch<{ id: string }>([
		...outcomeStatements(db, outcomes, now),
		...logStatements(db, logs, now),
	]);
	return new Set(results.flatMap((r) => r.results.map((row) => row.id)));
}

/** A claim handed back unrun (the per-type gate refused it): queued again at `readyAt`. */
export type GivenBack = { id: string; version: number; readyAt: number };

/**
 * Gives claims back uncounted (attempts - 1), compare-and-set on the claim's version like
 * `transitionStatement` with `attempts: "undo"`, in one batch; returns the ids that applied.
 */
export async function giveBack(db: D1Database, jobs: readonly GivenBack[], now: number): Promise<Set<string>> {
	const statements = chunkJsonRows(jobs.map((j) => [j.id, j.version, j.readyAt])).map((json) =>
		db
			.prepare(
				`UPDATE jobs SET status = 'queued', updated_at = ?1, version = jobs.version + 1, ready_at = d.a, attempts = jobs.attempts - 1, claim_expires_at = NULL
				 FROM (SELECT value ->> 0 AS id, value ->> 1 AS v, value ->> 2 AS a FROM json_each(?2)) AS d
				 WHERE jobs.id = d.id AND jobs.version = d.v
				 RETURNING jobs.id AS id`,
			)
			.bind(now, json),
	);
	const results = await db.batch<{ id: string }>(statements);
	return new Set(results.flatMap((r) => r.results.map((row) => row.id)));
}

/** Job log lines, many per statement. */
export function logStatements(db: D1Database, entries: readonly LogEntry[], at: number): D1PreparedStatement[] {
	const rows = entries.map((e) => [e.jobId, e.level, e.message.slice(0, 2000)]);
	return chunkJsonRows(rows).map((json) =>
		db
			.prepare(
				"INSERT INTO job_logs (job_id, at, level, message) SELECT value ->> 0, ?1, value ->> 1, value ->> 2 FROM json_each(?2)",
			)
			.bind(at, json),
	);
}

/** A new job row (`error`/`completed_at` set only for a job cancelled at birth by a broken dependency). */
export type JobInsert = {
	id: string;
	type: string;
	runner: "queue" | "external";
	status: string;
	priority: string;
	payload: string;
	max_retries: number;
	timeout_seconds: number;
	dedupe_key: string | null;
	ready_at: number;
	pending_deps: number;
	error: string | null;
	completed_at: number | null;
	/** Dependency depth (0 when absent). */
	dep_depth?: number;
};

/**
 * Inserts a tenant's new jobs. Jobs that differ only in id, payload and dedupe key (a bulk of one
 * kind) share one statement: the shared columns are bound once (14 parameters), the rest travel
 * as JSON arrays — a third cheaper per row than a JSON object per job. A job whose dedupe key a
 * live job holds is skipped (ON CONFLICT DO NOTHING; `WHERE true` lets SQLite parse the upsert
 * after a SELECT); RETURNING lists the jobs written, with their status and runner.
 */
export function insertJobsStatements(
	db: D1Database,
	tenantId: string,
	jobs: readonly JobInsert[],
	now: number,
): D1PreparedStatement[] {
	const shapes = new Map<string, { shape: JobInsert; rows: [string, string, string | null][] }>();
	for (const job of jobs) {
		const key = JSON.stringify([
			job.type,
			job.runner,
			job.status,
			job.priority,
			job.max_retries,
			job.timeout_seconds,
			job.ready_at,
			job.pending_deps,
			job.error,
			job.completed_at,
			job.dep_depth ?? 0,
		]);
		const group = shapes.get(key) ?? { shape: job, rows: [] };
		group.rows.push([job.id, job.payload, job.dedupe_key]);
		shapes.set(key, group);
	}
	const statements: D1PreparedStatement[] = [];
	for (const { shape: j, rows } of shapes.values()) {
		for (const json of chunkJsonRows(rows)) {
			statements.push(
				db
					.prepare(
						`INSERT INTO jobs (id, tenant_id, type, runner, status, priority, payload, max_retries, timeout_seconds, dedupe_key, ready_at, pending_deps, error, completed_at, dep_depth, created_at, updated_at)
						 SELECT value ->> 0, ?1, ?3, ?4, ?5, ?6, value ->> 1, ?7, ?8, value ->> 2, ?9, ?10, ?11, ?12, ?14, ?2, ?2 FROM json_each(?13) WHERE true
						 ON CONFLICT (tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL AND status NOT IN ('completed', 'dead', 'cancelled') DO NOTHING
						 RETURNING id, status, runner`,
					)
					.bind(
						tenantId,
						now,
						j.type,
						j.runner,
						j.status,
						j.priority,
						j.max_retries,
						j.timeout_seconds,
						j.ready_at,
						j.pending_deps,
						j.error,
						j.completed_at,
						json,
						j.dep_depth ?? 0,
					),
			);
		}
	}
	return statements;
}
