import type { SqlStatement } from "../platform/sql-db";
import { multiRowInsert } from "../platform/sql-db";
import type { Chunk, Lane, ReportStatus } from "./domain";

/** Reports' own tables: reports, their chunk checkpoints and the chunks' partial aggregates. */

export type ReportRow = {
	id: string;
	tenant_id: string;
	api_key_id: string;
	type: string;
	params: string;
	cache_key: string;
	lane: Lane;
	status: ReportStatus;
	chunks_total: number;
	chunks_done: number;
	step: number;
	error: string | null;
	result_rows: number | null;
	result_bytes: number | null;
	created_at: number;
	started_at: number | null;
	finished_at: number | null;
	expires_at: number;
};

export type ChunkRow = { chunk_index: number; start_ms: number; end_ms: number; cursor: string | null; steps: number };
export type PartialRow = { chunk_index: number; group_key: string; data: string };

/** D1 takes at most 100 KB of SQL and parameters per statement: partial rows go in slices below that. */
const PARTIAL_STATEMENT_BYTES = 80_000;

/** Inserts a report and its chunks in one transaction; false when the id exists already. */
export async function insertReport(
	db: D1Database,
	report: Omit<
		ReportRow,
		"chunks_done" | "step" | "error" | "result_rows" | "result_bytes" | "started_at" | "finished_at"
	>,
	chunks: readonly Chunk[],
): Promise<boolean> {
	const r = report;
	const head = db
		.prepare(
			`INSERT INTO reports (id, tenant_id, api_key_id, type, params, cache_key, lane, status, chunks_total, created_at, expires_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		)
		.bind(
			r.id,
			r.tenant_id,
			r.api_key_id,
			r.type,
			r.params,
			r.cache_key,
			r.lane,
			r.status,
			r.chunks_total,
			r.created_at,
			r.expires_at,
		);
	const rows = chunks.map((c) => [r.id, c.index, c.startMs, c.endMs]);
	const inserts = multiRowInsert(
		"report_chunks",
		["report_id", "chunk_index", "start_ms", "end_ms"],
		rows,
		"ON CONFLICT DO NOTHING",
	);
	const [first] = await db.batch([head, ...prepared(db, inserts)]);
	return (first?.meta.changes ?? 0) > 0;
}

export function findReport(db: D1Database, tenantId: string, id: string): Promise<ReportRow | null> {
	return db.prepare("SELECT * FROM reports WHERE id = ? AND tenant_id = ?").bind(id, tenantId).first<ReportRow>();
}

export function findReportById(db: D1Database, id: string): Promise<ReportRow | null> {
	return db.prepare("SELECT * FROM reports WHERE id = ?").bind(id).first<ReportRow>();
}

/** The newest completed, unexpired report of the tenant with these type and params. */
export function findCachedReport(
	db: D1Database,
	tenantId: string,
	cacheKey: string,
	now: number,
): Promise<ReportRow | null> {
	return db
		.prepare(
			`SELECT * FROM reports WHERE tenant_id = ? AND cache_key = ? AND status = 'completed' AND expires_at > ?
 ORDER BY expires_at DESC LIMIT 1`,
		)
		.bind(tenantId, cacheKey, now)
		.first<ReportRow>();
}

/** The caller's unfinished report with these type and params (a refresh across a bucket's end finds it). */
export function findActiveReport(
	db: D1Database,
	tenantId: string,
	apiKeyId: string,
	cacheKey: string,
	now: number,
): Promise<ReportRow | null> {
	return db
		.prepare(
			`SELECT * FROM reports WHERE tenant_id = ? AND cache_key = ? AND status IN ('queued', 'running') AND expires_at > ? AND api_key_id = ?
 ORDER BY created_at DESC LIMIT 1`,
		)
		.bind(tenantId, cacheKey, now, apiKeyId)
		.first<ReportRow>();
}

/** A page of the tenant's reports, newest first, after the (created_at, id) cursor. */
export async function listReports(
	db: D1Database,
	tenantId: string,
	before: { createdAt: number; id: string } | null,
	limit: number,
): Promise<ReportRow[]> {
	const at = before?.createdAt ?? Number.MAX_SAFE_INTEGER;
	const id = before?.id ?? "~";
	const { results } = await db
		.prepare(
			`SELECT * FROM reports WHERE tenant_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
 ORDER BY created_at DESC, id DESC LIMIT ?`,
		)
		.bind(tenantId, at, at, id, limit)
		.all<ReportRow>();
	return results;
}

/** The first chunk not yet done, or null when all are. */
export function nextChunk(db: D1Database, reportId: string): Promise<ChunkRow | null> {
	return db
		.prepare(
			"SELECT chunk_index, start_ms, end_ms, cursor, steps FROM report_chunks WHERE report_id = ? AND done = 0 ORDER BY chunk_index LIMIT 1",
		)
		.bind(reportId)
		.first<ChunkRow>();
}

export type StepCommit = {
	reportId: string;
	step: number;
	chunk: ChunkRow;
	/** null: the chunk is finished. */
	cursor: string | null;
	partials: readonly PartialRow[];
	now: number;
};

/**
 * A step's checkpoint in one transaction: the report's step counter (compare-and-set on the step
 * the message named), the chunk's cursor (compare-and-set on its own step count, so a late
 * duplicate never moves it back) and the partial rows (deterministic keys: rewriting is harmless).
 * True when this commit took the step; false when another delivery already had.
 */
export async function commitStep(db: D1Database, c: StepCommit): Promise<boolean> {
	const done = c.cursor === null ? 1 : 0;
	const head = db
		.prepare(
			`UPDATE reports SET step = step + 1, status = 'running', started_at = COALESCE(started_at, ?), chunks_done = chunks_done + ?
 WHERE id = ? AND step = ? AND status IN ('queued', 'running')`,
		)
		.bind(c.now, done, c.reportId, c.step);
	const chunk = db
		.prepare(
			"UPDATE report_chunks SET cursor = ?, done = ?, steps = steps + 1 WHERE report_id = ? AND chunk_index = ? AND steps = ? AND done = 0",
		)
		.bind(c.cursor, done, c.reportId, c.chunk.chunk_index, c.chunk.steps);
	const rows = c.partials.map((p) => [c.reportId, p.chunk_index, p.group_key, p.data]);
	const inserts = slicesBySize(rows).flatMap((slice) =>
		multiRowInsert(
			"report_partials",
			["report_id", "chunk_index", "group_key", "data"],
			slice,
			"ON CONFLICT DO UPDATE SET data = excluded.data",
		),
	);
	const [first] = await db.batch([head, chunk, ...prepared(db, inserts)]);
	return (first?.meta.changes ?? 0) > 0;
}

/** A page of a report's partial rows in (chunk_index, group_key) order. */
export async function readPartials(
	db: D1Database,
	reportId: string,
	after: { chunk: number; key: string } | null,
	limit: number,
): Promise<PartialRow[]> {
	const chunk = after?.chunk ?? -1;
	const key = after?.key ?? "";
	const { results } = await db
		.prepare(
			`SELECT chunk_index, group_key, data FROM report_partials WHERE report_id = ? AND (chunk_index > ? OR (chunk_index = ? AND group_key > ?))
 ORDER BY chunk_index, group_key LIMIT ?`,
		)
		.bind(reportId, chunk, chunk, key, limit)
		.all<PartialRow>();
	return results;
}

/** Marks a report completed (once); true for the call that did. */
export async function completeReport(
	db: D1Database,
	id: string,
	r: { rows: number; bytes: number; finishedAt: number; expiresAt: number },
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE reports SET status = 'completed', result_rows = ?, result_bytes = ?, finished_at = ?, expires_at = ?
 WHERE id = ? AND status IN ('queued', 'running')`,
		)
		.bind(r.rows, r.bytes, r.finishedAt, r.expiresAt, id)
		.run();
	return result.meta.changes > 0;
}

export async function failReport(db: D1Database, id: string, error: string, now: number): Promise<boolean> {
	const result = await db
		.prepare(
			"UPDATE reports SET status = 'failed', error = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')",
		)
		.bind(error.slice(0, 500), now, id)
		.run();
	return result.meta.changes > 0;
}

/** Retention: partials and chunks of expired reports, oldest first, at most `limit` rows. */
export async function purgeExpiredChildren(
	db: D1Database,
	table: "report_partials" | "report_chunks",
	cutoff: number,
	limit: number,
): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM ${table} WHERE rowid IN (SELECT c.rowid FROM ${table} c JOIN reports r ON r.id = c.report_id
 WHERE r.expires_at < ? ORDER BY r.expires_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

/** Expired reports whose chunks and partials are gone already (so deleting them orphans nothing). */
export async function listExpiredReports(
	db: D1Database,
	cutoff: number,
	limit: number,
): Promise<{ id: string; tenant_id: string }[]> {
	const { results } = await db
		.prepare(
			`SELECT id, tenant_id FROM reports r WHERE expires_at < ?
 AND NOT EXISTS (SELECT 1 FROM report_chunks c WHERE c.report_id = r.id)
 AND NOT EXISTS (SELECT 1 FROM report_partials p WHERE p.report_id = r.id)
 ORDER BY expires_at LIMIT ?`,
		)
		.bind(cutoff, limit)
		.all<{ id: string; tenant_id: string }>();
	return results;
}

/** Deletes the expired reports among `ids` (<= 99 per call: one bound parameter each). */
export async function deleteReports(db: D1Database, ids: readonly string[], cutoff: number): Promise<number> {
	if (ids.length === 0) return 0;
	const result = await db
		.prepare(`DELETE FROM reports WHERE expires_at < ? AND id IN (${ids.map(() => "?").join(", ")})`)
		.bind(cutoff, ...ids)
		.run();
	return result.meta.changes;
}

function prepared(db: D1Database, statements: SqlStatement[]): D1PreparedStatement[] {
	return statements.map((s) => db.prepare(s.sql).bind(...s.params));
}

function slicesBySize<T extends (string | number)[]>(rows: readonly T[]): T[][] {
	const slices: T[][] = [];
	let current: T[] = [];
	let bytes = 0;
	for (const row of rows) {
		const size = row.reduce<number>((n, v) => n + String(v).length, 16);
		if (current.length > 0 && bytes + size > PARTIAL_STATEMENT_BYTES) {
			slices.push(current);
			current = [];
			bytes = 0;
		}
		current.push(row);
		bytes += size;
	}
	if (current.length > 0) slices.push(current);
	return slices;
}
