import { deleteOldestRows } from "../platform/sql-db";

/** D1 access for the access-token signing keys. */

export type SigningKeyRow = {
	kid: string;
	alg: string;
	public_jwk: string;
	private_sealed: string;
	created_at: number;
	retired_at: number | null;
};

/** The current key (the one not retired), if any. */
export async function findCurrentKey(db: D1Database): Promise<SigningKeyRow | null> {
	return db
		.prepare(
			"SELECT kid, alg, public_jwk, private_sealed, created_at, retired_at FROM account_signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
		)
		.first<SigningKeyRow>();
}

/** Keys current or retired after `retiredAfter`, newest first (a handful: one per rotation). */
export async function listPublishedKeys(db: D1Database, retiredAfter: number): Promise<SigningKeyRow[]> {
	const { results } = await db
		.prepare(
			`SELECT kid, alg, public_jwk, private_sealed, created_at, retired_at FROM account_signing_keys
			 WHERE retired_at IS NULL OR retired_at > ? ORDER BY created_at DESC LIMIT 20`,
		)
		.bind(retiredAfter)
		.all<SigningKeyRow>();
	return results;
}

/** The first key, only if there is no current key yet (concurrent first signers create one). */
export async function insertFirstKey(db: D1Database, key: SigningKeyRow): Promise<void> {
	await db
		.prepare(
			`INSERT INTO account_signing_keys (kid, alg, public_jwk, private_sealed, created_at)
			 SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM account_signing_keys WHERE retired_at IS NULL)`,
		)
		.bind(key.kid, key.alg, key.public_jwk, key.private_sealed, key.created_at)
		.run();
}

/**
 * Rotation: retires the current key (when `expectedKid` is given, only if it is still that key, so
 * concurrent scheduled rotations make one new key) and makes `key` current, in one transaction.
 */
export async function replaceCurrentKey(
	db: D1Database,
	key: SigningKeyRow,
	expectedKid: string | null,
): Promise<boolean> {
	const results = await db.batch([
		db
			.prepare("UPDATE account_signing_keys SET retired_at = ? WHERE retired_at IS NULL AND (? IS NULL OR kid = ?)")
			.bind(key.created_at, expectedKid, expectedKid),
		db
			.prepare(
				`INSERT INTO account_signing_keys (kid, alg, public_jwk, private_sealed, created_at)
				 SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM account_signing_keys WHERE retired_at IS NULL)`,
			)
			.bind(key.kid, key.alg, key.public_jwk, key.private_sealed, key.created_at),
	]);
	return results[1]?.meta.changes === 1;
}

/** Retention: keys retired before the cutoff (long out of the JWKS). */
export function purgeRetiredKeys(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "account_signing_keys", "retired_at", cutoff, limit);
}
