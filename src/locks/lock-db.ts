import { z } from "zod";
import type { Lease, LockState } from "./domain";
import { LOCK_LIMITS, LOCK_MODES } from "./domain";

/**
 * The SQLite storage of one DistributedLock object (its `ctx.storage.sql`): the token counter, the
 * grants (live ones are the leases; ended ones are remembered for idempotent release), and the
 * guarded values. Writes made in one synchronous turn are committed together, and the object's
 * output gate holds every answer until they are durable: a token is never handed out unpersisted.
 */

type GrantRow = { token: number; owner: string; mode: string; granted_at: number; expires_at: number };
type GuardedRow = { value: string; token: number };

const modeSchema = z.enum(LOCK_MODES);

export function createLockTables(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), last_token INTEGER NOT NULL)`);
	sql.exec(
		`CREATE TABLE IF NOT EXISTS grants (token INTEGER PRIMARY KEY, owner TEXT NOT NULL, mode TEXT NOT NULL,
			granted_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ended_at INTEGER)`,
	);
	sql.exec(`CREATE INDEX IF NOT EXISTS grants_live ON grants (ended_at) WHERE ended_at IS NULL`);
	sql.exec(
		`CREATE TABLE IF NOT EXISTS guarded (key TEXT PRIMARY KEY, value TEXT NOT NULL, token INTEGER NOT NULL,
			written_at INTEGER NOT NULL)`,
	);
}

/** The stored state: the counter and the grants that have not ended (some may have expired since). */
export function readLockState(sql: SqlStorage): LockState {
	const counter = sql.exec<{ last_token: number }>("SELECT last_token FROM counter WHERE id = 1").toArray()[0];
	const rows = sql
		.exec<GrantRow>(
			"SELECT token, owner, mode, granted_at, expires_at FROM grants WHERE ended_at IS NULL ORDER BY token",
		)
		.toArray();
	const leases = rows.map((row): Lease => ({
		token: row.token,
		owner: row.owner,
		mode: modeSchema.parse(row.mode),
		grantedAt: row.granted_at,
		expiresAt: row.expires_at,
	}));
	return { lastToken: counter?.last_token ?? 0, leases };
}

/** Records a grant and moves the counter to its token, in the same turn. */
export function saveGrant(sql: SqlStorage, lease: Lease): void {
	sql.exec(
		"INSERT INTO counter (id, last_token) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_token = excluded.last_token",
		lease.token,
	);
	sql.exec(
		"INSERT INTO grants (token, owner, mode, granted_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		lease.token,
		lease.owner,
		lease.mode,
		lease.grantedAt,
		lease.expiresAt,
	);
	// Forget the owners of old ended grants (a release that late is answered without the owner check).
	if (lease.token % 100 === 0) {
		sql.exec(
			"DELETE FROM grants WHERE ended_at IS NOT NULL AND token <= ?",
			lease.token - LOCK_LIMITS.rememberedGrants,
		);
	}
}

export function saveExpiry(sql: SqlStorage, lease: Lease): void {
	sql.exec("UPDATE grants SET expires_at = ? WHERE token = ?", lease.expiresAt, lease.token);
}

export function endGrant(sql: SqlStorage, token: number, endedAt: number): void {
	sql.exec("UPDATE grants SET ended_at = ? WHERE token = ? AND ended_at IS NULL", endedAt, token);
}

/** The owner a token was granted to, or null when it was never issued or is no longer remembered. */
export function grantOwner(sql: SqlStorage, token: number): string | null {
	return sql.exec<{ owner: string }>("SELECT owner FROM grants WHERE token = ?", token).toArray()[0]?.owner ?? null;
}

export function findGuarded(sql: SqlStorage, key: string): GuardedRow | null {
	return sql.exec<GuardedRow>("SELECT value, token FROM guarded WHERE key = ?", key).toArray()[0] ?? null;
}

export function storeGuarded(sql: SqlStorage, key: string, value: string, token: number, now: number): void {
	sql.exec(
		`INSERT INTO guarded (key, value, token, written_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value, token = excluded.token, written_at = excluded.written_at`,
		key,
		value,
		token,
		now,
	);
}
