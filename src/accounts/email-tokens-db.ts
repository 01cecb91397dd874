import { deleteOldestRows } from "../platform/sql-db";

/** D1 access for end users' e-mail tokens (password reset, address verification) and the verified mark. */

export type EmailTokenPurpose = "password_reset" | "email_verify" | "email_change";

export type EmailTokenRow = {
	tenant_id: string;
	user_id: string;
	email: string;
};

/**
 * Stores a new token of a purpose for a user and spends every earlier unused one of the same
 * purpose (only the newest e-mail works), in one transaction.
 */
export async function insertEmailToken(
	db: D1Database,
	t: EmailTokenRow & {
		token_hash: string;
		purpose: EmailTokenPurpose;
		created_at: number;
		expires_at: number;
		/** email_change: the session that asked (the change completes only while it is live). */
		session_id?: string | null;
	},
): Promise<void> {
	await db.batch([
		db
			.prepare(
				`UPDATE account_email_tokens SET used_at = ?
				  WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL`,
			)
			.bind(t.created_at, t.tenant_id, t.user_id, t.purpose),
		db
			.prepare(
				`INSERT INTO account_email_tokens (token_hash, tenant_id, user_id, purpose, email, created_at, expires_at, session_id)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			)
			.bind(t.token_hash, t.tenant_id, t.user_id, t.purpose, t.email, t.created_at, t.expires_at, t.session_id ?? null),
	]);
}

/** A token that may still be spent: of this tenant and purpose, unused and unexpired. */
export async function findUsableToken(
	db: D1Database,
	tenantId: string,
	tokenHash: string,
	purpose: EmailTokenPurpose,
	now: number,
): Promise<EmailTokenRow | null> {
	return db
		.prepare(
			`SELECT tenant_id, user_id, email FROM account_email_tokens
			  WHERE token_hash = ? AND tenant_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`,
		)
		.bind(tokenHash, tenantId, purpose, now)
		.first<EmailTokenRow>();
}

const SPEND = `UPDATE account_email_tokens SET used_at = ?1
  WHERE token_hash = ?2 AND tenant_id = ?3 AND purpose = ?4 AND used_at IS NULL AND expires_at > ?1`;
/** The statements that follow a spend run only if this token was the one spent at `now`. */
const SPENT_NOW = `EXISTS (SELECT 1 FROM account_email_tokens WHERE token_hash = ?2 AND used_at = ?1)`;

/**
 * Spends a reset token and sets the new password hash (the address is verified too: the user
 * read the mail) in one transaction; false when the token was not usable (spent by a concurrent
 * call, expired, another tenant's).
 */
export async function spendResetToken(
	db: D1Database,
	t: { tenantId: string; tokenHash: string; userId: string; passwordHash: string },
	now: number,
): Promise<boolean> {
	const [spent] = await db.batch([
		db.prepare(SPEND).bind(now, t.tokenHash, t.tenantId, "password_reset"),
		db
			.prepare(
				`UPDATE account_users SET password_hash = ?5, updated_at = ?1, email_verified_at = COALESCE(email_verified_at, ?1)
				  WHERE id = ?6 AND tenant_id = ?3 AND ${SPENT_NOW}`,
			)
			.bind(now, t.tokenHash, t.tenantId, "password_reset", t.passwordHash, t.userId),
	]);
	return spent?.meta.changes === 1;
}

/**
 * Spends a verification token and marks the address verified, if it is still the user's address;
 * false when the token was not usable.
 */
export async function spendVerifyToken(
	db: D1Database,
	t: { tenantId: string; tokenHash: string; userId: string; email: string },
	now: number,
): Promise<boolean> {
	const [spent] = await db.batch([
		db.prepare(SPEND).bind(now, t.tokenHash, t.tenantId, "email_verify"),
		db
			.prepare(
				`UPDATE account_users SET email_verified_at = COALESCE(email_verified_at, ?1), updated_at = ?1
				  WHERE id = ?5 AND tenant_id = ?3 AND email = ?6 AND ${SPENT_NOW}`,
			)
			.bind(now, t.tokenHash, t.tenantId, "email_verify", t.userId, t.email),
	]);
	return spent?.meta.changes === 1;
}

/** Retention: tokens that expired before the cutoff. */
export function purgeExpiredEmailTokens(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "account_email_tokens", "expires_at", cutoff, limit);
}
