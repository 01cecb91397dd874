/**
 * A shard's write-behind outbox (its own SQLite): one pending origin write per key. A newer
 * write-behind PUT of the same key replaces the pending one (coalescing: the origin receives the
 * latest value, once). Rows leave only when the origin accepted them; a write refused for good, or
 * still failing after MAX_ATTEMPTS, is kept with `failed = 1` for the tenant to see (stats), never dropped.
 */

export type PendingWrite = { key: string; url: string; value: string; write_id: string; attempts: number };

export const MAX_ATTEMPTS = 10;

export function createOutbox(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS write_behind (key TEXT PRIMARY KEY, url TEXT NOT NULL, value TEXT NOT NULL,
			write_id TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
			failed INTEGER NOT NULL DEFAULT 0, last_error TEXT)`,
	);
	sql.exec("CREATE INDEX IF NOT EXISTS write_behind_due ON write_behind (failed, next_at)");
}

export function enqueueWrite(sql: SqlStorage, write: Omit<PendingWrite, "attempts">, now: number): void {
	sql.exec(
		`INSERT INTO write_behind (key, url, value, write_id, attempts, next_at, failed, last_error)
		 VALUES (?, ?, ?, ?, 0, ?, 0, NULL)
		 ON CONFLICT (key) DO UPDATE SET url = excluded.url, value = excluded.value, write_id = excluded.write_id,
		   attempts = 0, next_at = excluded.next_at, failed = 0, last_error = NULL`,
		write.key,
		write.url,
		write.value,
		write.write_id,
		now,
	);
}

export function dueWrites(sql: SqlStorage, now: number, limit: number): PendingWrite[] {
	return sql
		.exec<PendingWrite>(
			"SELECT key, url, value, write_id, attempts FROM write_behind WHERE failed = 0 AND next_at <= ? ORDER BY next_at LIMIT ?",
			now,
			limit,
		)
		.toArray();
}

/** Removes a delivered write, unless a newer one for the key replaced it meanwhile. */
export function markDelivered(sql: SqlStorage, key: string, writeId: string): void {
	sql.exec("DELETE FROM write_behind WHERE key = ? AND write_id = ?", key, writeId);
}

export function markFailedAttempt(
	sql: SqlStorage,
	write: PendingWrite,
	outcome: { retryable: boolean; reason: string; nextAt: number },
): void {
	const attempts = write.attempts + 1;
	const failed = !outcome.retryable || attempts >= MAX_ATTEMPTS ? 1 : 0;
	sql.exec(
		"UPDATE write_behind SET attempts = ?, next_at = ?, failed = ?, last_error = ? WHERE key = ? AND write_id = ?",
		attempts,
		outcome.nextAt,
		failed,
		outcome.reason.slice(0, 300),
		write.key,
		write.write_id,
	);
}

export function nextDue(sql: SqlStorage): number | null {
	return sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM write_behind WHERE failed = 0").one().at;
}

export function outboxCounts(sql: SqlStorage): { pending: number; failed: number } {
	const row = sql
		.exec<{ pending: number | null; failed: number | null }>(
			"SELECT SUM(failed = 0) AS pending, SUM(failed = 1) AS failed FROM write_behind",
		)
		.one();
	return { pending: row.pending ?? 0, failed: row.failed ?? 0 };
}
