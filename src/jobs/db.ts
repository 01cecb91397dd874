import { PRIORITY_PATTERN } from "./priority";
import type { JobStatus, Priority } from "./domain";
import { PRIORITIES } from "./domain";

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

const PRIORITY_CYCLE = PRIORITY_PATTERN.length;

/** A claim statement stops adding jobs once their payloads pass this many characters (memory). */
export const CLAIM_PAYLOAD_BUDGET = 4 * 1024 * 1024;

/**
 * What running a claimed job needs. The statement RETURNs only the columns that differ per job
 * (shipping and parsing whole rows cost more than the claim itself); tenant and runner are the
 * claim's own.
 */
const RETURNED_COLUMNS = [
	"id",
	"type",
	"priority",
	"payload",
	"attempts",
	"max_retries",
	"timeout_seconds",
	"has_dependents",
	"version",
] as const;
export type ClaimedJob = Pick<JobRow, (typeof RETURNED_COLUMNS)[number] | "tenant_id" | "runner">;

export type ClaimResult = { jobs: ClaimedJob[]; payloadChars: number };

export type ClaimSpec = {
	tenantId: string;
	runner: "queue" | "external";
	types: string[] | null;
	limit: number;
	now: number;
	claimedBy: string;
	/** slotPositions(offset) of src/jobs/priority.ts: where each priority's jobs fall. */
	slots: Record<Priority, number[]>;
	budget?: number;
};

/**
 * Atomically claims up to `limit` ready jobs across the three priorities in ONE statement: each
 * priority's oldest ready jobs (oldest ready_at, then insertion order — the rowid ends the
 * jobs_runnable index, so no sort) get their weighted-round-robin positions (`slots`), and the
 * `limit` lowest positions are claimed — 5 : 3 : 1 under a backlog, the others filling in for a
 * priority with too few. One UPDATE … WHERE id IN (SELECT …), so two consumers never claim the
 * same job; bumps version and attempts. The first job is always taken, further ones only while
 * the payloads taken stay within `budget` characters, so a large claim cannot exhaust the
 * isolate's memory. Binds 15 + types.length parameters (types ≤ 20), under D1's 100.
 */
export async function claimReady(db: D1Database, claim: ClaimSpec): Promise<ClaimResult> {
	if (claim.limit <= 0) return { jobs: [], payloadChars: 0 };
	// Numbered placeholders throughout: a bare `?` after ?15 in the text would be numbered ?16.
	const typeFilter = claim.types ? `AND type IN (${claim.types.map((_, i) => `?${i + 16}`).join(", ")})` : "";
	// Slot numbers are bound as ?7..?15 in PRIORITIES order; the SQL text holds only code constants.
	const slotParams: number[] = [];
	const positionCases = PRIORITIES.map((p) => {
		const mine = claim.slots[p];
		const whens = mine.map((_, j) => `WHEN ${j} THEN ?${7 + slotParams.length + j}`).join(" ");
		slotParams.push(...mine);
		return `WHEN '${p}' THEN ${PRIORITY_CYCLE} * (k / ${mine.length}) + (CASE k % ${mine.length} ${whens} END)`;
	}).join(" ");
	if (slotParams.length !== PRIORITY_CYCLE) throw new Error("slots must cover the priority pattern once");
	const candidates = PRIORITIES.map(
		(p) => `SELECT id, payload, '${p}' AS p, ROW_NUMBER() OVER (ORDER BY ready_at, seq) - 1 AS k FROM (
		   SELECT rowid AS seq, id, payload, ready_at FROM jobs WHERE tenant_id = ?3 AND runner = ?4 AND priority = '${p}'
		     AND status IN ('queued', 'scheduled', 'failed') AND ready_at <= ?1 ${typeFilter}
		   ORDER BY ready_at, rowid LIMIT ?5)`,
	).join(" UNION ALL ");
	const { results } = await db
		.prepare(
			`UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = ?1, updated_at = ?1,
			   claim_expires_at = ?1 + timeout_seconds * 1000, claimed_by = ?2, progress = 0, version = version + 1
			 WHERE id IN (
			   SELECT id FROM (
			     SELECT id, SUM(length(payload)) OVER w AS upto, ROW_NUMBER() OVER w AS rn FROM (
			       SELECT id, payload, CASE p ${positionCases} END AS pos FROM (${candidates}) ORDER BY pos LIMIT ?5)
			     WINDOW w AS (ORDER BY pos ROWS UNBOUNDED PRECEDING))
			   WHERE rn = 1 OR upto <= ?6)
			 RETURNING ${RETURNED_COLUMNS.join(", ")}`,
		)
		.bind(
			claim.now,
			claim.claimedBy,
			claim.tenantId,
			claim.runner,
			claim.limit,
			claim.budget ?? CLAIM_PAYLOAD_BUDGET,
			...slotParams,
			...(claim.types ?? []),
		)
		.all<Pick<JobRow, (typeof RETURNED_COLUMNS)[number]>>();
	let payloadChars = 0;
	const jobs: ClaimedJob[] = [];
	for (const row of results) {
		payloadChars += row.payload.length;
		jobs.push({ ...row, tenant_id: claim.tenantId, runner: claim.runner });
	}
	return { jobs, payloadChars };
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

/** Processing jobs whose visibility timeout has passed (the sweeper takes them back). */
export async function findExpiredClaims(db: D1Database, now: number, limit: number): Promise<JobRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM jobs WHERE status = 'processing' AND claim_expires_at < ? LIMIT ?")
		.bind(now, limit)
		.all<JobRow>();
	return results;
}
