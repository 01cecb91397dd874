import { deleteOldestRows } from "../platform/sql-db";

export type SessionRow = {
	id_hash: string;
	scope: "admin" | "tenant";
	tenant_id: string | null;
	key_hash: string | null;
	created_at: number;
	expires_at: number;
};

export async function insertSession(db: D1Database, row: SessionRow): Promise<void> {
	await db
		.prepare(
			"INSERT INTO dashboard_sessions (id_hash, scope, tenant_id, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		)
		.bind(row.id_hash, row.scope, row.tenant_id, row.key_hash, row.created_at, row.expires_at)
		.run();
}

/** A session that has not expired, or null. */
export async function findLiveSession(db: D1Database, idHash: string, now: number): Promise<SessionRow | null> {
	return db
		.prepare(
			"SELECT id_hash, scope, tenant_id, key_hash, created_at, expires_at FROM dashboard_sessions WHERE id_hash = ? AND expires_at > ?",
		)
		.bind(idHash, now)
		.first<SessionRow>();
}

export async function deleteSession(db: D1Database, idHash: string): Promise<void> {
	await db.prepare("DELETE FROM dashboard_sessions WHERE id_hash = ?").bind(idHash).run();
}

export function purgeExpiredSessions(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "dashboard_sessions", "expires_at", cutoff, limit);
}
