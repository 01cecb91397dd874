/** D1 access for end users, their TOTP state and recovery codes. */

export type UserRow = {
	id: string;
	tenant_id: string;
	username: string;
	email: string;
	password_hash: string;
	totp_secret_sealed: string | null;
	totp_pending_sealed: string | null;
	totp_last_step: number | null;
	email_verified_at: number | null;
	created_at: number;
};

const USER_COLUMNS =
	"id, tenant_id, username, email, password_hash, totp_secret_sealed, totp_pending_sealed, totp_last_step, email_verified_at, created_at";

export async function tenantExists(db: D1Database, tenantId: string): Promise<boolean> {
	return (await db.prepare("SELECT 1 AS found FROM tenants WHERE id = ?").bind(tenantId).first()) !== null;
}

/** Inserts a user; false when the username or e-mail address is taken in the tenant. */
export async function insertUser(
	db: D1Database,
	user: Omit<UserRow, "totp_secret_sealed" | "totp_pending_sealed" | "totp_last_step" | "email_verified_at">,
): Promise<boolean> {
	const result = await db
		.prepare(
			`INSERT INTO account_users (id, tenant_id, username, email, password_hash, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		)
		.bind(user.id, user.tenant_id, user.username, user.email, user.password_hash, user.created_at, user.created_at)
		.run();
	return result.meta.changes === 1;
}

/** The user whose username or e-mail address (both lowercased) is `login`. */
export async function findUserByLogin(db: D1Database, tenantId: string, login: string): Promise<UserRow | null> {
	return db
		.prepare(`SELECT ${USER_COLUMNS} FROM account_users WHERE tenant_id = ? AND (username = ? OR email = ?) LIMIT 1`)
		.bind(tenantId, login, login)
		.first<UserRow>();
}

export async function findUser(db: D1Database, tenantId: string, userId: string): Promise<UserRow | null> {
	return db
		.prepare(`SELECT ${USER_COLUMNS} FROM account_users WHERE tenant_id = ? AND id = ?`)
		.bind(tenantId, userId)
		.first<UserRow>();
}

export async function updatePasswordHash(db: D1Database, userId: string, hash: string, now: number): Promise<void> {
	await db
		.prepare("UPDATE account_users SET password_hash = ?, updated_at = ? WHERE id = ?")
		.bind(hash, now, userId)
		.run();
}

export async function setPendingTotp(db: D1Database, userId: string, sealed: string, now: number): Promise<void> {
	await db
		.prepare("UPDATE account_users SET totp_pending_sealed = ?, updated_at = ? WHERE id = ?")
		.bind(sealed, now, userId)
		.run();
}

/** Confirms the pending secret and replaces the recovery codes, in one transaction. */
export async function enableTotp(
	db: D1Database,
	userId: string,
	step: number,
	codeHashes: readonly string[],
	now: number,
): Promise<boolean> {
	const results = await db.batch([
		db
			.prepare(
				`UPDATE account_users SET totp_secret_sealed = totp_pending_sealed, totp_pending_sealed = NULL,
				 totp_last_step = ?, updated_at = ? WHERE id = ? AND totp_pending_sealed IS NOT NULL`,
			)
			.bind(step, now, userId),
		db.prepare("DELETE FROM account_recovery_codes WHERE user_id = ?").bind(userId),
		...codeHashes.map((hash) =>
			db.prepare("INSERT INTO account_recovery_codes (user_id, code_hash) VALUES (?, ?)").bind(userId, hash),
		),
	]);
	return results[0]?.meta.changes === 1;
}

/**
 * Replaces the recovery codes of a user whose TOTP is on, in one transaction; false (nothing
 * changed) when TOTP was turned off meanwhile.
 */
export async function replaceRecoveryCodes(
	db: D1Database,
	userId: string,
	codeHashes: readonly string[],
	now: number,
): Promise<boolean> {
	const results = await db.batch([
		db
			.prepare("UPDATE account_users SET updated_at = ? WHERE id = ? AND totp_secret_sealed IS NOT NULL")
			.bind(now, userId),
		db
			.prepare(
				`DELETE FROM account_recovery_codes WHERE user_id = ?1
				 AND EXISTS (SELECT 1 FROM account_users WHERE id = ?1 AND totp_secret_sealed IS NOT NULL)`,
			)
			.bind(userId),
		...codeHashes.map((hash) =>
			db
				.prepare(
					`INSERT INTO account_recovery_codes (user_id, code_hash)
					 SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM account_users WHERE id = ?1 AND totp_secret_sealed IS NOT NULL)`,
				)
				.bind(userId, hash),
		),
	]);
	return results[0]?.meta.changes === 1;
}

export async function disableTotp(db: D1Database, userId: string, now: number): Promise<void> {
	await db.batch([
		db
			.prepare(
				`UPDATE account_users SET totp_secret_sealed = NULL, totp_pending_sealed = NULL, totp_last_step = NULL,
				 updated_at = ? WHERE id = ?`,
			)
			.bind(now, userId),
		db.prepare("DELETE FROM account_recovery_codes WHERE user_id = ?").bind(userId),
	]);
}

/** Records a TOTP time step as used; false when it (or a later one) was used already (replay). */
export async function claimTotpStep(db: D1Database, userId: string, step: number): Promise<boolean> {
	const result = await db
		.prepare(
			"UPDATE account_users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
		)
		.bind(step, userId, step)
		.run();
	return result.meta.changes === 1;
}

/** Spends a recovery code once; false when unknown or already used. */
export async function useRecoveryCode(db: D1Database, userId: string, codeHash: string, now: number): Promise<boolean> {
	const result = await db
		.prepare("UPDATE account_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL")
		.bind(now, userId, codeHash)
		.run();
	return result.meta.changes === 1;
}

export async function countUnusedRecoveryCodes(db: D1Database, userId: string): Promise<number> {
	const row = await db
		.prepare("SELECT COUNT(*) AS n FROM account_recovery_codes WHERE user_id = ? AND used_at IS NULL")
		.bind(userId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}
