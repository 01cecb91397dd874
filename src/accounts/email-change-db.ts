/** D1 access for an end user's change of e-mail address: the pending token and the atomic swap. */

export type ChangeTokenRow = { user_id: string; email: string; session_id: string | null };

/** Whether an account of the tenant already has this address (lowercased). */
export async function emailTaken(db: D1Database, tenantId: string, email: string): Promise<boolean> {
	const row = await db
		.prepare("SELECT 1 AS found FROM account_users WHERE tenant_id = ? AND email = ? LIMIT 1")
		.bind(tenantId, email)
		.first();
	return row !== null;
}

/** An unused, unexpired change token of the tenant: whose account, which new address, which session asked. */
export async function findChangeToken(
	db: D1Database,
	tenantId: string,
	tokenHash: string,
	now: number,
): Promise<ChangeTokenRow | null> {
	return db
		.prepare(
			`SELECT user_id, email, session_id FROM account_email_tokens
			  WHERE token_hash = ? AND tenant_id = ? AND purpose = 'email_change' AND used_at IS NULL AND expires_at > ?`,
		)
		.bind(tokenHash, tenantId, now)
		.first<ChangeTokenRow>();
}

// ?1 now, ?2 token hash, ?3 tenant, ?4 user, ?5 new address, ?6 the session that asked.
const SPEND = `UPDATE account_email_tokens SET used_at = ?1
  WHERE token_hash = ?2 AND tenant_id = ?3 AND user_id = ?4 AND purpose = 'email_change' AND email = ?5
    AND used_at IS NULL AND expires_at > ?1
    AND EXISTS (SELECT 1 FROM account_sessions
                 WHERE id = ?6 AND tenant_id = ?3 AND user_id = ?4 AND revoked_at IS NULL AND expires_at > ?1)
    AND NOT EXISTS (SELECT 1 FROM account_users WHERE tenant_id = ?3 AND email = ?5)`;
/** The statements after the spend run only if this call spent the token (at `now`). */
const SPENT_NOW = `EXISTS (SELECT 1 FROM account_email_tokens WHERE token_hash = ?2 AND used_at = ?1)`;

/**
 * The swap, in one D1 transaction: spends the token only if it is usable, the session that asked
 * is live and no account of the tenant has the new address (checked inside the transaction, so a
 * concurrent sign-up either lands before, and the spend does not happen, or after, and meets the
 * unique index); then, only if it was spent: sets the address (verified: its owner read the mail),
 * spends every other outstanding token of the user (a reset code mailed to the old address dies),
 * and revokes every other session of the user. `spent` false: nothing was written.
 */
export async function swapEmail(
	db: D1Database,
	t: { tenantId: string; tokenHash: string; userId: string; email: string; sessionId: string },
	now: number,
): Promise<{ spent: boolean; revoked: string[] }> {
	const bind = [now, t.tokenHash, t.tenantId, t.userId, t.email, t.sessionId] as const;
	const [spent, , , revoked] = await db.batch<{ id: string }>([
		db.prepare(SPEND).bind(...bind),
		db
			.prepare(
				`UPDATE account_users SET email = ?5, email_verified_at = ?1, updated_at = ?1
				  WHERE id = ?4 AND tenant_id = ?3 AND ${SPENT_NOW}`,
			)
			// As many values as the highest ?N of the statement (D1 counts the bindings).
			.bind(...bind.slice(0, 5)),
		db
			.prepare(
				`UPDATE account_email_tokens SET used_at = ?1
				  WHERE tenant_id = ?3 AND user_id = ?4 AND used_at IS NULL AND ${SPENT_NOW}`,
			)
			.bind(...bind.slice(0, 4)),
		db
			.prepare(
				`UPDATE account_sessions SET revoked_at = ?1, revoke_reason = 'email_changed'
				  WHERE tenant_id = ?3 AND user_id = ?4 AND revoked_at IS NULL AND id != ?6 AND ${SPENT_NOW} RETURNING id`,
			)
			.bind(...bind),
	]);
	return { spent: spent?.meta.changes === 1, revoked: (revoked?.results ?? []).map((r) => r.id) };
}
