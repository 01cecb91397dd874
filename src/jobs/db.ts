import type { JobStatus, Priority } from "./domain";

export type JobRow = {
	id: string;
	tenant_id: string;
	type: string;
	runner: "queue" | "external";
	status: JobStatus;
	priority: Priority;
	payload: string;
	result: string | null;
	error: string | null;
	progress: number;
	attempts: number;
	max_retries: number;
	timeout_seconds: number;
	dedupe_key: string | null;
	ready_at: number;
	pending_deps: number;
	has_dependents: number;
	/** 0 without dependencies, else 1 + the deepest dependency's (capped at MAX_DEPENDENCY_DEPTH). */
	dep_depth: number;
	cancel_requested: number;
	claimed_by: string | null;
	claim_expires_at: number | null;
	created_at: number;
	started_at: number | null;
	completed_at: number | null;
	updated_at: number;
	version: number;
};

export async function findJob(db: D1Database, tenantId: string, id: string): Promise<JobRow | null> {
	return db.prepare("SELECT * FROM jobs WHERE id = ? AND tenant_id = ?").bind(id, tenantId).first<JobRow>();
}

export async function findJobById(db: D1Database, id: string): Promise<JobRow | null> {
	return db.prepare("SELECT * FROM jobs WHERE id = ?").bind(id).first<JobRow>();
}

/** Live jobs holding any of these dedupe keys (at most 100 keys per call). */
export async function findLiveByDedupeKeys(db: D1Database, tenantId: string, keys: string[]): Promise<JobRow[]> {
	if (keys.length === 0) return [];
	const { results } = await db
		.prepare(
			`SELECT * FROM jobs WHERE tenant_id = ? AND dedupe_key IN (${keys.map(() => "?").join(", ")}) AND status NOT IN ('completed', 'dead', 'cancelled')`,
		)
		.bind(tenantId, ...keys)
		.all<JobRow>();
	return results;
}

/** For each of these dedupe keys, the newest job that took it, live or finished. */
export async function findNewestByDedupeKeys(db: D1Database, tenantId: string, keys: string[]): Promise<JobRow[]> {
	if (keys.length === 0) return [];
	const { results } = await db
		.prepare(
			"SELECT * FROM jobs WHERE rowid IN (SELECT MAX(rowid) FROM jobs WHERE tenant_id = ?1 AND dedupe_key IN (SELECT value FROM json_each(?2)) GROUP BY dedupe_key)",
		)
		.bind(tenantId, JSON.stringify(keys))
		.all<JobRow>();
	return results;
}

/** Jobs of a tenant by id (at most 99 ids per call). */
export async function findJobsByIds(db: D1Database, tenantId: string, ids: string[]): Promise<JobRow[]> {
	if (ids.length === 0) return [];
	const { results } = await db
		.prepare(`SELECT * FROM jobs WHERE tenant_id = ? AND id IN (${ids.map(() => "?").join(", ")})`)
		.bind(tenantId, ...ids)
		.all<JobRow>();
	return results;
}

export type ListFilter = {
	status?: JobStatus;
	type?: string;
	cursor?: { createdAt: number; id: string };
	limit: number;
};

/** Newest first, keyset-paginated on (created_at, id). */
export async function listJobs(db: D1Database, tenantId: string, filter: ListFilter): Promise<JobRow[]> {
	const where = ["tenant_id = ?"];
	const binds: (string | number)[] = [tenantId];
	if (filter.status) {
		where.push("status = ?");
		binds.push(filter.status);
	}
	if (filter.type) {
		where.push("type = ?");
		binds.push(filter.type);
	}
	if (filter.cursor) {
		where.push("(created_at < ? OR (created_at = ? AND id < ?))");
		binds.push(filter.cursor.createdAt, filter.cursor.createdAt, filter.cursor.id);
	}
	const { results } = await db
		.prepare(`SELECT * FROM jobs WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`)
		.bind(...binds, filter.limit)
		.all<JobRow>();
	return results;
}

export type Transition = {
	id: string;
	version: number;
	status: JobStatus;
	now: number;
	readyAt?: number;
	result?: string | null;
	error?: string | null;
	progress?: number;
	/** reset: a redrive starts afresh; undo: a claim given back unrun does not count. */
	attempts?: "reset" | "undo";
	finished?: boolean;
};

/**
 * A compare-and-set state change: applies only if the job still has `version`, so a change made
 * meanwhile by another consumer, a cancel or the visibility sweeper is never overwritten.
 */
export function transitionStatement(db: D1Database, t: Transition): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE jobs SET status = ?1, updated_at = ?2, version = version + 1,
			   ready_at = COALESCE(?3, ready_at),
			   result = CASE WHEN ?4 THEN ?5 ELSE result END,
			   error = CASE WHEN ?6 THEN ?7 ELSE error END,
			   progress = COALESCE(?8, progress),
			   attempts = CASE ?9 WHEN 1 THEN 0 WHEN 2 THEN attempts - 1 ELSE attempts END,
			   completed_at = CASE WHEN ?10 THEN ?2 ELSE completed_at END,
			   claim_expires_at = CASE WHEN ?1 = 'processing' THEN claim_expires_at ELSE NULL END,
			   cancel_requested = CASE WHEN ?9 = 1 THEN 0 ELSE cancel_requested END
			 WHERE id = ?11 AND version = ?12`,
		)
		.bind(
			t.status,
			t.now,
			t.readyAt ?? null,
			t.result !== undefined ? 1 : 0,
			t.result ?? null,
			t.error !== undefined ? 1 : 0,
			t.error ?? null,
			t.progress ?? null,
			t.attempts === "reset" ? 1 : t.attempts === "undo" ? 2 : 0,
			t.finished ? 1 : 0,
			t.id,
			t.version,
		);
}

export function logStatement(
	db: D1Database,
	jobId: string,
	at: number,
	level: "info" | "warn" | "error",
	message: string,
): D1PreparedStatement {
	return db
		.prepare("INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)")
		.bind(jobId, at, level, message.slice(0, 2000));
}

export type LogRow = { id: number; at: number; level: string; message: string };

export async function listLogs(db: D1Database, jobId: string, afterId: number, limit: number): Promise<LogRow[]> {
	const { results } = await db
		.prepare("SELECT id, at, level, message FROM job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?")
		.bind(jobId, afterId, limit)
		.all<LogRow>();
	return results;
}

/** Flags a running job's cancel; the handler or worker sees it at its next progress report or heartbeat. */
export async function requestCancel(db: D1Database, id: string, now: number): Promise<void> {
	await db
		.prepare("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'processing'")
		.bind(now, id)
		.run();
}

export type StaleJob = Pick<JobRow, "id" | "tenant_id" | "ready_at">;

/** Runnable queue jobs whose ready time passed before `readyBefore` without a claim (a lost run token). */
export async function findStaleRunnable(db: D1Database, readyBefore: number, limit: number): Promise<StaleJob[]> {
	const { results } = await db
		.prepare(
			"SELECT id, tenant_id, ready_at FROM jobs WHERE runner = 'queue' AND status IN ('queued', 'scheduled', 'failed') AND ready_at < ? LIMIT ?",
		)
		.bind(readyBefore, limit)
		.all<StaleJob>();
	return results;
}
