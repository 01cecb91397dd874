import type { Concat, UploadStatus } from "./domain";
import type { ObjectPart } from "../platform/r2-object";

/**
 * The SQLite storage of one TusUpload object: the upload's state (one row) and the etags of its
 * uploaded parts. Writes of one synchronous turn commit together, and the object's output gate
 * holds each answer until they are durable: an offset is never acknowledged unpersisted.
 */

export type UploadState = {
	id: string;
	tenantId: string;
	/** Null while deferred (creation-defer-length). */
	length: number | null;
	partSize: number;
	/** Bytes received and durable: in uploaded parts, then in the staging object. */
	offset: number;
	/** The R2 multipart upload; null once completed or aborted (or never, for an empty upload). */
	multipartId: string | null;
	r2Key: string;
	status: UploadStatus;
	expiresAt: number | null;
	/** The Upload-Metadata header as the client sent it (echoed on HEAD). */
	metadata: string | null;
	createdAt: number;
};

type StateRow = {
	id: string;
	tenant_id: string;
	length: number | null;
	part_size: number;
	offset: number;
	multipart_id: string | null;
	r2_key: string;
	status: UploadStatus;
	expires_at: number | null;
	metadata: string | null;
	created_at: number;
};

export function createUploadTables(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS upload (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL,
			tenant_id TEXT NOT NULL, length INTEGER, part_size INTEGER NOT NULL, offset INTEGER NOT NULL,
			multipart_id TEXT, r2_key TEXT NOT NULL, status TEXT NOT NULL, expires_at INTEGER, metadata TEXT,
			created_at INTEGER NOT NULL)`,
	);
	sql.exec(`CREATE TABLE IF NOT EXISTS parts (part_number INTEGER PRIMARY KEY, etag TEXT NOT NULL)`);
	sql.exec(
		`CREATE TABLE IF NOT EXISTS concat (one INTEGER PRIMARY KEY CHECK (one = 1), kind TEXT NOT NULL,
			partial_ids TEXT NOT NULL, objects TEXT NOT NULL)`,
	);
}

/** tus concatenation: a partial upload, or a final one (its partials by id, and their objects in order). */
export type ConcatState = Concat & { objects: ObjectPart[] };

export function readConcat(sql: SqlStorage): ConcatState | null {
	const row = sql
		.exec<{ kind: string; partial_ids: string; objects: string }>("SELECT * FROM concat WHERE one = 1")
		.toArray()[0];
	if (!row) return null;
	if (row.kind === "partial") return { kind: "partial", objects: [] };
	return { kind: "final", ids: stringsOf(row.partial_ids), objects: objectPartsOf(row.objects) };
}

export function saveConcat(sql: SqlStorage, concat: ConcatState): void {
	sql.exec(
		"INSERT OR REPLACE INTO concat (one, kind, partial_ids, objects) VALUES (1, ?, ?, ?)",
		concat.kind,
		JSON.stringify(concat.kind === "final" ? concat.ids : []),
		JSON.stringify(concat.objects),
	);
}

/** The parts of a final upload as stored (JSON written by this module). */
export function objectPartsOf(text: string | null): ObjectPart[] {
	const parsed: unknown = text === null ? [] : JSON.parse(text);
	if (!Array.isArray(parsed)) return [];
	return parsed.flatMap((v: unknown) =>
		typeof v === "object" && v !== null && "key" in v && "size" in v && "etag" in v
			? [{ key: String(v.key), size: Number(v.size), etag: String(v.etag) }]
			: [],
	);
}

function stringsOf(text: string): string[] {
	const parsed: unknown = JSON.parse(text);
	return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
}

export function readUploadState(sql: SqlStorage): UploadState | null {
	const row = sql.exec<StateRow>("SELECT * FROM upload WHERE one = 1").toArray()[0];
	if (!row) return null;
	return {
		id: row.id,
		tenantId: row.tenant_id,
		length: row.length,
		partSize: row.part_size,
		offset: row.offset,
		multipartId: row.multipart_id,
		r2Key: row.r2_key,
		status: row.status,
		expiresAt: row.expires_at,
		metadata: row.metadata,
		createdAt: row.created_at,
	};
}

export function saveUploadState(sql: SqlStorage, s: UploadState): void {
	sql.exec(
		`INSERT OR REPLACE INTO upload (one, id, tenant_id, length, part_size, offset, multipart_id, r2_key, status,
			expires_at, metadata, created_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.id,
		s.tenantId,
		s.length,
		s.partSize,
		s.offset,
		s.multipartId,
		s.r2Key,
		s.status,
		s.expiresAt,
		s.metadata,
		s.createdAt,
	);
}

export function readParts(sql: SqlStorage): R2UploadedPart[] {
	return sql
		.exec<{ part_number: number; etag: string }>("SELECT part_number, etag FROM parts ORDER BY part_number")
		.toArray()
		.map((row) => ({ partNumber: row.part_number, etag: row.etag }));
}

export function countParts(sql: SqlStorage): number {
	return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM parts").one().n;
}

export function saveParts(sql: SqlStorage, parts: readonly R2UploadedPart[]): void {
	for (const part of parts) {
		sql.exec("INSERT OR REPLACE INTO parts (part_number, etag) VALUES (?, ?)", part.partNumber, part.etag);
	}
}

export function clearParts(sql: SqlStorage): void {
	sql.exec("DELETE FROM parts");
}
