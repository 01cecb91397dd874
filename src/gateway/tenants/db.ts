import type { RouteLimit } from "../limiter/route-limits";
import { parseRouteLimits } from "../limiter/route-limits";

export type TenantRow = { id: string; name: string; route_limits: string | null; created_at: number };

export type Tenant = { id: string; name: string; routeLimits: RouteLimit[] | null; createdAt: number };

export async function insertTenantWithKey(
	db: D1Database,
	tenant: { id: string; name: string; createdAt: number },
	key: { id: string; name: string; hash: string; prefix: string },
): Promise<void> {
	// One batch is one transaction: a tenant never exists without its first key.
	await db.batch([
		db
			.prepare("INSERT INTO tenants (id, name, route_limits, created_at) VALUES (?, ?, NULL, ?)")
			.bind(tenant.id, tenant.name, tenant.createdAt),
		db
			.prepare("INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)")
			.bind(key.id, tenant.id, key.name, key.hash, key.prefix, tenant.createdAt),
	]);
}

export async function findTenant(db: D1Database, id: string): Promise<Tenant | null> {
	const row = await db
		.prepare("SELECT id, name, route_limits, created_at FROM tenants WHERE id = ?")
		.bind(id)
		.first<TenantRow>();
	return row ? toTenant(row) : null;
}

export async function listTenants(db: D1Database, limit: number, after: string | null): Promise<Tenant[]> {
	const { results } = await db
		.prepare("SELECT id, name, route_limits, created_at FROM tenants WHERE id > ? ORDER BY id LIMIT ?")
		.bind(after ?? "", limit)
		.all<TenantRow>();
	return results.map(toTenant);
}

/** Sets (or with null clears) a tenant's gateway limits; false when there is no such tenant. */
export async function setRouteLimits(db: D1Database, id: string, limits: RouteLimit[] | null): Promise<boolean> {
	const result = await db
		.prepare("UPDATE tenants SET route_limits = ? WHERE id = ?")
		.bind(limits === null ? null : JSON.stringify(limits), id)
		.run();
	return result.meta.changes > 0;
}

function toTenant(row: TenantRow): Tenant {
	return { id: row.id, name: row.name, routeLimits: parseRouteLimits(row.route_limits), createdAt: row.created_at };
}
