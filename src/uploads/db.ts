import type { UploadStatus } from "./domain";
import { MAX_BOUND_PARAMETERS } from "../platform/sql-db";

/** D1 access of uploads (table `uploads`, migrations/0020_create_uploads.sql). */

export type UploadRow = {
	id: string;
	tenant_id: string;
	length: number | null;
	filename: string | null;
	filetype: string | null;
	status: UploadStatus;
	r2_key: string;
	created_at: number;
	completed_at: number | null;
	/** When it left 'uploading' (complete, expired, terminated, failed); retention counts from here. */
	finished_at: number | null;
	/** tus concatenation: 'partial', 'final' (no object of its own: `concat_parts`), or null. */
	concat: "partial" | "final" | null;
	/** A final upload's content: JSON [{key, size, etag}] of its partials' objects, in order. */
	concat_parts: string | null;
};

export type UploadQuota = { maxActive: number; maxBytesInFlight: number };

/**
 * Inserts an upload unless the tenant is at its quota of unfinished uploads (count or declared
 * bytes); one statement, so two concurrent creations cannot both take the last place.
 * Returns false when over quota.
 */
export async function insertUploadWithinQuota(db: D1Database, row: UploadRow, quota: UploadQuota): Promise<boolean> {
	const result = await db
		.prepare(
			`INSERT INTO uploads (id, tenant_id, length, filename, filetype, status, r2_key, created_at, completed_at,
			   finished_at, concat)
			 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?
			 WHERE (SELECT COUNT(*) FROM uploads WHERE tenant_id = ? AND status = 'uploading') < ?
			   AND (SELECT COALESCE(SUM(length), 0) FROM uploads WHERE tenant_id = ? AND status = 'uploading') + ? <= ?`,
		)
		.bind(
			row.id,
			row.tenant_id,
			row.length,
			row.filename,
			row.filetype,
			row.status,
			row.r2_key,
			row.created_at,
			row.completed_at,
			row.concat,
			row.tenant_id,
			quota.maxActive,
			row.tenant_id,
			row.length ?? 0,
			quota.maxBytesInFlight,
		)
		.run();
	return result.meta.changes === 1;
}

export async function findUpload(db: D1Database, tenantId: string, id: string): Promise<UploadRow | null> {
	return db.prepare("SELECT * FROM uploads WHERE id = ? AND tenant_id = ?").bind(id, tenantId).first<UploadRow>();
}

/**
 * A final upload (tus concatenation), complete from the start: it adds no bytes in flight, so it is
 * not counted against the upload quotas.
 */
export async function insertFinalUpload(db: D1Database, row: UploadRow): Promise<void> {
	await db
		.prepare(
			`INSERT INTO uploads (id, tenant_id, length, filename, filetype, status, r2_key, created_at, completed_at,
			   finished_at, concat, concat_parts) VALUES (?, ?, ?, ?, ?, 'complete', ?, ?, ?, ?, 'final', ?)`,
		)
		.bind(
			row.id,
			row.tenant_id,
			row.length,
			row.filename,
			row.filetype,
			row.r2_key,
			row.created_at,
			row.completed_at,
			row.finished_at,
			row.concat_parts,
		)
		.run();
}

/** A tenant's uploads among `ids` (at most 99: one bound parameter each, plus the tenant). */
export async function findUploads(db: D1Database, tenantId: string, ids: readonly string[]): Promise<UploadRow[]> {
	if (ids.length === 0) return [];
	if (ids.length >= MAX_BOUND_PARAMETERS) throw new Error(`findUploads: ${ids.length} ids, at most 99`);
	const { results } = await db
		.prepare(`SELECT * FROM uploads WHERE tenant_id = ? AND id IN (${ids.map(() => "?").join(", ")})`)
		.bind(tenantId, ...ids)
		.all<UploadRow>();
	return results;
}

/** Moves an upload out of 'uploading' (complete, expired, terminated, failed); a finished one stays as it is. */
export async function finishUpload(
	db: D1Database,
	id: string,
	status: Exclude<UploadStatus, "uploading">,
	at: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE uploads SET status = ?, completed_at = CASE WHEN ? = 'complete' THEN ? ELSE completed_at END,
			   finished_at = ?
			 WHERE id = ? AND (status = 'uploading' OR ? = 'terminated')`,
		)
		.bind(status, status, at, at, id, status)
		.run();
}

/** A deferred length, once the client declares it. */
export async function setUploadLength(db: D1Database, id: string, length: number): Promise<void> {
	await db.prepare("UPDATE uploads SET length = ? WHERE id = ? AND length IS NULL").bind(length, id).run();
}

/**
 * Retention: removes at most `limit` rows of uploads that ended without a file (expired,
 * terminated, failed) before `cutoff`, oldest first. Complete uploads are kept until terminated.
 */
export async function purgeEndedUploads(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM uploads WHERE rowid IN (SELECT rowid FROM uploads
			 WHERE status IN ('expired', 'terminated', 'failed') AND finished_at < ? ORDER BY finished_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}
