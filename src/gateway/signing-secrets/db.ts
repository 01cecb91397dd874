/** A signing secret as stored: the secret itself only sealed (src/platform/crypto.ts sealText). */
export type SigningSecretRow = {
	id: string;
	tenant_id: string;
	sealed_secret: string;
	prefix: string;
	created_at: number;
	/** null: the current secret; else it signs alongside the current one until then. */
	expires_at: number | null;
};

const COLUMNS = "id, tenant_id, sealed_secret, prefix, created_at, expires_at";

/** The secrets that sign now: the current one first, then the rotated-out ones still in their overlap. */
export async function listLiveSecrets(db: D1Database, tenantId: string, now: number): Promise<SigningSecretRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${COLUMNS} FROM signing_secrets WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)
			 ORDER BY expires_at IS NULL DESC, created_at DESC, id DESC`,
		)
		.bind(tenantId, now)
		.all<SigningSecretRow>();
	return results;
}

/** Inserts a tenant's first current secret; false when it already has one (a concurrent first use). */
export async function insertFirstSecret(db: D1Database, row: SigningSecretRow): Promise<boolean> {
	const result = await db
		.prepare(`INSERT INTO signing_secrets (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING`)
		.bind(row.id, row.tenant_id, row.sealed_secret, row.prefix, row.created_at)
		.run();
	return result.meta.changes > 0;
}

/**
 * One transaction: secrets past their overlap are deleted, every live secret is set to expire by
 * `overlapUntil` (never later than it already would), and `row` becomes the current secret.
 */
export async function rotateSecrets(
	db: D1Database,
	row: SigningSecretRow,
	overlapUntil: number,
	now: number,
): Promise<void> {
	await db.batch([
		db.prepare("DELETE FROM signing_secrets WHERE tenant_id = ? AND expires_at <= ?").bind(row.tenant_id, now),
		db
			.prepare("UPDATE signing_secrets SET expires_at = MIN(COALESCE(expires_at, ?1), ?1) WHERE tenant_id = ?2")
			.bind(overlapUntil, row.tenant_id),
		db
			.prepare(`INSERT INTO signing_secrets (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL)`)
			.bind(row.id, row.tenant_id, row.sealed_secret, row.prefix, row.created_at),
	]);
}
