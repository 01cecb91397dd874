import type { IdempotencyRecord, StoredResponse } from "./domain";
import { idempotencyRecordSchema } from "./domain";

/**
 * The SQL of one IdempotencyShard: a row per key (`scope`), its response body inline or, when it
 * is large, in chunks of CHUNK_CHARS (a SQLite value in a Durable Object is at most 2 MB; a
 * UTF-16 char is at most 3 bytes of UTF-8, so 512 Ki chars stay under 1.6 MB).
 */

export const CHUNK_CHARS = 512 * 1024;

type KeyRow = { record: string; chunks: number };

export function createShardTables(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS idem_key (
		scope TEXT PRIMARY KEY,
		record TEXT NOT NULL,
		chunks INTEGER NOT NULL DEFAULT 0,
		expires_at INTEGER NOT NULL
	)`);
	sql.exec("CREATE INDEX IF NOT EXISTS idem_key_expiry ON idem_key (expires_at)");
	sql.exec(`CREATE TABLE IF NOT EXISTS idem_chunk (
		scope TEXT NOT NULL,
		seq INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (scope, seq)
	)`);
}

/** The stored record of `scope` (expired or not), with its body reassembled; null when absent or unreadable. */
export function readRecord(sql: SqlStorage, scope: string): IdempotencyRecord | null {
	const row = sql.exec<KeyRow>("SELECT record, chunks FROM idem_key WHERE scope = ?", scope).toArray()[0];
	if (row === undefined) return null;
	const parsed = idempotencyRecordSchema.safeParse(JSON.parse(row.record));
	if (!parsed.success) return null;
	const record = parsed.data;
	if (row.chunks === 0 || record.state !== "completed") return record;
	const parts = sql
		.exec<{ data: string }>("SELECT data FROM idem_chunk WHERE scope = ? ORDER BY seq", scope)
		.toArray()
		.map((r) => r.data);
	return { ...record, response: { ...record.response, body: parts.join("") } };
}

/**
 * The fresh-key fast path: stores the in-progress `record` only when `scope` has no row (one
 * statement; an absent key row has no chunk rows). False when a row exists: the caller reads it
 * and decides (replay, 409, 422, or a takeover of an expired or abandoned record).
 */
export function insertIfAbsent(sql: SqlStorage, scope: string, record: IdempotencyRecord): boolean {
	const cursor = sql.exec(
		"INSERT INTO idem_key (scope, record, chunks, expires_at) VALUES (?, ?, 0, ?) ON CONFLICT (scope) DO NOTHING",
		scope,
		JSON.stringify(record),
		record.expiresAt,
	);
	return cursor.rowsWritten > 0;
}

/**
 * Completes `scope` if `token` still holds it (in progress, same token: decideComplete's rule, in
 * one UPDATE), keeping its fingerprint and createdAt; a body over CHUNK_CHARS goes to chunk rows
 * (an in-progress row has none: every write that replaces a row clears them). False when the
 * lock was lost; nothing is written then.
 */
export function completeIfHeld(
	sql: SqlStorage,
	scope: string,
	token: string,
	response: StoredResponse,
	completedAt: number,
	expiresAt: number,
): boolean {
	const large = response.body.length > CHUNK_CHARS;
	const chunks = large ? Math.ceil(response.body.length / CHUNK_CHARS) : 0;
	const inline = large ? { ...response, body: "" } : response;
	const updated = sql.exec(
		`UPDATE idem_key SET
		   record = json_set(json_remove(record, '$.token', '$.lockedUntil'),
		     '$.state', 'completed', '$.response', json(?), '$.completedAt', ?, '$.expiresAt', ?),
		   chunks = ?, expires_at = ?
		 WHERE scope = ? AND json_extract(record, '$.state') = 'in_progress' AND json_extract(record, '$.token') = ?`,
		JSON.stringify(inline),
		completedAt,
		expiresAt,
		chunks,
		expiresAt,
		scope,
		token,
	);
	if (updated.rowsWritten === 0) return false;
	for (let seq = 0; seq < chunks; seq++)
		sql.exec(
			"INSERT INTO idem_chunk (scope, seq, data) VALUES (?, ?, ?)",
			scope,
			seq,
			response.body.slice(seq * CHUNK_CHARS, (seq + 1) * CHUNK_CHARS),
		);
	return true;
}

/** Deletes `scope` if `token` still holds it (an in-progress row has no chunk rows); false otherwise. */
export function releaseIfHeld(sql: SqlStorage, scope: string, token: string): boolean {
	const cursor = sql.exec(
		`DELETE FROM idem_key
		 WHERE scope = ? AND json_extract(record, '$.state') = 'in_progress' AND json_extract(record, '$.token') = ?`,
		scope,
		token,
	);
	return cursor.rowsWritten > 0;
}

/** Stores `record` for `scope`, splitting a large response body into chunk rows. */
export function writeRecord(sql: SqlStorage, scope: string, record: IdempotencyRecord): void {
	sql.exec("DELETE FROM idem_chunk WHERE scope = ?", scope);
	let stored = record;
	let chunks = 0;
	if (record.state === "completed" && record.response.body.length > CHUNK_CHARS) {
		const body = record.response.body;
		for (let at = 0; at < body.length; at += CHUNK_CHARS, chunks++)
			sql.exec(
				"INSERT INTO idem_chunk (scope, seq, data) VALUES (?, ?, ?)",
				scope,
				chunks,
				body.slice(at, at + CHUNK_CHARS),
			);
		stored = { ...record, response: { ...record.response, body: "" } };
	}
	sql.exec(
		`INSERT INTO idem_key (scope, record, chunks, expires_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (scope) DO UPDATE SET record = excluded.record, chunks = excluded.chunks, expires_at = excluded.expires_at`,
		scope,
		JSON.stringify(stored),
		chunks,
		record.expiresAt,
	);
}

export function deleteRecord(sql: SqlStorage, scope: string): void {
	sql.exec("DELETE FROM idem_chunk WHERE scope = ?", scope);
	sql.exec("DELETE FROM idem_key WHERE scope = ?", scope);
}

/** Deletes at most `limit` of the records that expired by `now` (oldest first) and their chunks; returns how many. */
export function deleteExpired(sql: SqlStorage, now: number, limit: number): number {
	const scopes = sql
		.exec<{ scope: string }>("SELECT scope FROM idem_key WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", now, limit)
		.toArray()
		.map((r) => r.scope);
	for (const scope of scopes) deleteRecord(sql, scope);
	return scopes.length;
}

/** The earliest expiry still stored, or null when the shard is empty. */
export function nextExpiry(sql: SqlStorage): number | null {
	const row = sql.exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM idem_key").one();
	return row.at;
}

export function countRecords(sql: SqlStorage): number {
	return sql.exec<{ n: number }>("SELECT count(*) AS n FROM idem_key").one().n;
}
