export type ApiKeyRow = {
	id: string;
	tenant_id: string;
	name: string;
	prefix: string;
	created_at: number;
	revoked_at: number | null;
};

/** What authenticating a key needs, in one query: the key, its tenant and the tenant's limits. */
export type KeyLookup = {
	key_id: string;
	tenant_id: string;
	tenant_name: string;
	route_limits: string | null;
	revoked_at: number | null;
};

export async function findKeyByHash(db: D1Database, hash: string): Promise<KeyLookup | null> {
	return db
		.prepare(
			`SELECT k.id AS key_id, k.tenant_id, t.name AS tenant_name, t.route_limits, k.revoked_at
			 FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = ?`,
		)
		.bind(hash)
		.first<KeyLookup>();
}

export async function insertApiKey(
	db: D1Database,
	key: { id: string; tenantId: string; name: string; hash: string; prefix: string; createdAt: number },
): Promise<void> {
	await db
		.prepare("INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)")
		.bind(key.id, key.tenantId, key.name, key.hash, key.prefix, key.createdAt)
		.run();
}

export async function listApiKeys(db: D1Database, tenantId: string): Promise<ApiKeyRow[]> {
	const { results } = await db
		.prepare(
			"SELECT id, tenant_id, name, prefix, created_at, revoked_at FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id",
		)
		.bind(tenantId)
		.all<ApiKeyRow>();
	return results;
}

/** Revokes a key of the tenant; returns the row as it now is, or null when there is no such key. */
export async function revokeApiKey(
	db: D1Database,
	tenantId: string,
	keyId: string,
	now: number,
): Promise<ApiKeyRow | null> {
	return db
		.prepare(
			`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?
			 RETURNING id, tenant_id, name, prefix, created_at, revoked_at`,
		)
		.bind(now, tenantId, keyId)
		.first<ApiKeyRow>();
}
