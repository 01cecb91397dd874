import type { UploadStatus } from "./domain";

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
			`INSERT INTO uploads (id, tenant_id, length, filename, filetype, status, r2_key, created_at, completed_at)
			 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
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

/** Moves an upload out of 'uploading' (complete, expired, terminated, failed); a finished one stays as it is. */
export async function finishUpload(
	db: D1Database,
	id: string,
	status: Exclude<UploadStatus, "uploading">,
	at: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE uploads SET status = ?, completed_at = CASE WHEN ? = 'complete' THEN ? ELSE completed_at END
			 WHERE id = ? AND (status = 'uploading' OR ? = 'terminated')`,
		)
		.bind(status, status, at, id, status)
		.run();
}

/** A deferred length, once the client declares it. */
export async function setUploadLength(db: D1Database, id: string, length: number): Promise<void> {
	await db.prepare("UPDATE uploads SET length = ? WHERE id = ? AND length IS NULL").bind(length, id).run();
}
