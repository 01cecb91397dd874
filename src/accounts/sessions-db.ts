import { deleteOldestRows } from "../platform/sql-db";

/** D1 access for sessions (refresh-token families) and refresh tokens. */

export type SessionRow = {
	id: string;
	tenant_id: string;
	user_id: string;
	created_at: number;
	last_used_at: number;
	expires_at: number;
	revoked_at: number | null;
	user_agent: string | null;
	ip: string | null;
};

export type RefreshLookup = {
	token_hash: string;
	used_at: number | null;
	session_id: string;
	tenant_id: string;
	user_id: string;
	expires_at: number;
	revoked_at: number | null;
};

const SESSION_COLUMNS = "id, tenant_id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip";

/** A new session and its first refresh token, together. */
export async function insertSession(db: D1Database, session: SessionRow, refreshHash: string): Promise<void> {
	await db.batch([
		db
			.prepare(
				`INSERT INTO account_sessions (id, tenant_id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			)
			.bind(
				session.id,
				session.tenant_id,
				session.user_id,
				session.created_at,
				session.last_used_at,
				session.expires_at,
				session.user_agent,
				session.ip,
			),
		db
			.prepare("INSERT INTO account_refresh_tokens (token_hash, session_id, created_at) VALUES (?, ?, ?)")
			.bind(refreshHash, session.id, session.created_at),
	]);
}

export async function findRefreshToken(db: D1Database, tokenHash: string): Promise<RefreshLookup | null> {
	return db
		.prepare(
			`SELECT r.token_hash, r.used_at, s.id AS session_id, s.tenant_id, s.user_id, s.expires_at, s.revoked_at
			 FROM account_refresh_tokens r JOIN account_sessions s ON s.id = r.session_id WHERE r.token_hash = ?`,
		)
		.bind(tokenHash)
		.first<RefreshLookup>();
}

/**
 * Rotation in one transaction: the old token is marked used (only if it was unused) and the new one
 * is inserted only if that mark was this call's. False when another use got there first.
 */
export async function rotateRefreshToken(
	db: D1Database,
	sessionId: string,
	oldHash: string,
	newHash: string,
	now: number,
): Promise<boolean> {
	const results = await db.batch([
		db
			.prepare(
				"UPDATE account_refresh_tokens SET used_at = ?, replaced_by = ? WHERE token_hash = ? AND used_at IS NULL",
			)
			.bind(now, newHash, oldHash),
		db
			.prepare(
				`INSERT INTO account_refresh_tokens (token_hash, session_id, created_at)
				 SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM account_refresh_tokens WHERE token_hash = ? AND replaced_by = ?)`,
			)
			.bind(newHash, sessionId, now, oldHash, newHash),
		db.prepare("UPDATE account_sessions SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL").bind(now, sessionId),
	]);
	return results[1]?.meta.changes === 1;
}

/** Revokes one session of a user; false when it is not theirs, unknown or revoked already. */
export async function revokeSession(
	db: D1Database,
	tenantId: string,
	userId: string,
	sessionId: string,
	reason: string,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE account_sessions SET revoked_at = ?, revoke_reason = ?
			 WHERE id = ? AND tenant_id = ? AND user_id = ? AND revoked_at IS NULL`,
		)
		.bind(now, reason, sessionId, tenantId, userId)
		.run();
	return result.meta.changes === 1;
}

/** Revokes every live session of a user (but `keep`, when given); returns their ids. */
export async function revokeUserSessions(
	db: D1Database,
	tenantId: string,
	userId: string,
	reason: string,
	now: number,
	keep: string | null = null,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`UPDATE account_sessions SET revoked_at = ?, revoke_reason = ?
			 WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL AND (? IS NULL OR id != ?) RETURNING id`,
		)
		.bind(now, reason, tenantId, userId, keep, keep)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}

/** Whether a session may still be used: exists in the tenant, not revoked, not expired. */
export async function sessionIsLive(
	db: D1Database,
	tenantId: string,
	sessionId: string,
	now: number,
): Promise<boolean> {
	const row = await db
		.prepare("SELECT revoked_at, expires_at FROM account_sessions WHERE id = ? AND tenant_id = ?")
		.bind(sessionId, tenantId)
		.first<{ revoked_at: number | null; expires_at: number }>();
	return row !== null && row.revoked_at === null && row.expires_at > now;
}

/** A user's live sessions, newest first, after the cursor. */
export async function listLiveSessions(
	db: D1Database,
	tenantId: string,
	userId: string,
	after: { createdAt: number; id: string } | null,
	limit: number,
	now: number,
): Promise<SessionRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${SESSION_COLUMNS} FROM account_sessions
			 WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?
			   AND (? IS NULL OR created_at < ? OR (created_at = ? AND id < ?))
			 ORDER BY created_at DESC, id DESC LIMIT ?`,
		)
		.bind(
			tenantId,
			userId,
			now,
			after?.createdAt ?? null,
			after?.createdAt ?? null,
			after?.createdAt ?? null,
			after?.id ?? null,
			limit,
		)
		.all<SessionRow>();
	return results;
}

/** Retention: sessions that ended (expired) before the cutoff. */
export function purgeEndedSessions(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "account_sessions", "expires_at", cutoff, limit);
}

/** Retention: refresh tokens issued before the cutoff (older than any session can live). */
export function purgeOldRefreshTokens(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "account_refresh_tokens", "created_at", cutoff, limit);
}

/** Whether the user ever had a session (still kept, live or not) from this IP and user agent. */
export async function hasSessionFrom(
	db: D1Database,
	tenantId: string,
	userId: string,
	ip: string,
	userAgent: string | null,
): Promise<boolean> {
	const row = await db
		.prepare(
			"SELECT 1 AS seen FROM account_sessions WHERE tenant_id = ? AND user_id = ? AND ip = ? AND user_agent IS ? LIMIT 1",
		)
		.bind(tenantId, userId, ip, userAgent)
		.first<{ seen: number }>();
	return row !== null;
}
