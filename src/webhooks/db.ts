/** Webhook endpoints in D1 (the only SQL on endpoints). Every query is scoped by tenant. */

export type EndpointRow = {
	id: string;
	tenant_id: string;
	url: string;
	description: string;
	event_types: string;
	rate_limit: number | null;
	ordering_key: string | null;
	sealed_secret: string;
	sealed_previous_secret: string | null;
	previous_expires_at: number | null;
	enabled: number;
	disabled_reason: string | null;
	failing_since: number | null;
	created_at: number;
	updated_at: number;
};

export type EndpointChanges = Partial<
	Pick<EndpointRow, "url" | "description" | "event_types" | "rate_limit" | "ordering_key">
>;

export const ENDPOINT_COLUMNS =
	"id, tenant_id, url, description, event_types, rate_limit, ordering_key, sealed_secret, sealed_previous_secret, previous_expires_at, enabled, disabled_reason, failing_since, created_at, updated_at";

export async function insertEndpoint(db: D1Database, row: EndpointRow): Promise<void> {
	await db
		.prepare(`INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		.bind(
			row.id,
			row.tenant_id,
			row.url,
			row.description,
			row.event_types,
			row.rate_limit,
			row.ordering_key,
			row.sealed_secret,
			row.sealed_previous_secret,
			row.previous_expires_at,
			row.enabled,
			row.disabled_reason,
			row.failing_since,
			row.created_at,
			row.updated_at,
		)
		.run();
}

export async function countEndpoints(db: D1Database, tenantId: string): Promise<number> {
	const row = await db
		.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE tenant_id = ?")
		.bind(tenantId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

export function findEndpoint(db: D1Database, tenantId: string, id: string): Promise<EndpointRow | null> {
	return db
		.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? AND id = ?`)
		.bind(tenantId, id)
		.first<EndpointRow>();
}

/** A page of endpoints in creation order after the cursor (created_at, id). */
export async function listEndpoints(
	db: D1Database,
	tenantId: string,
	after: { createdAt: number; id: string } | null,
	limit: number,
): Promise<EndpointRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ?1 AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3))
			 ORDER BY created_at, id LIMIT ?4`,
		)
		.bind(tenantId, after?.createdAt ?? null, after?.id ?? "", limit)
		.all<EndpointRow>();
	return results;
}

/** Every enabled endpoint of a tenant (the subscription cache; capped by maxEndpointsPerTenant). */
export async function listEnabledEndpoints(db: D1Database, tenantId: string): Promise<EndpointRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? AND enabled = 1 ORDER BY created_at, id`,
		)
		.bind(tenantId)
		.all<EndpointRow>();
	return results;
}

export async function updateEndpoint(
	db: D1Database,
	tenantId: string,
	id: string,
	changes: EndpointChanges,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE webhook_endpoints SET
			   url = COALESCE(?3, url), description = COALESCE(?4, description), event_types = COALESCE(?5, event_types),
			   rate_limit = CASE WHEN ?6 THEN ?7 ELSE rate_limit END,
			   ordering_key = CASE WHEN ?8 THEN ?9 ELSE ordering_key END, updated_at = ?10
			 WHERE tenant_id = ?1 AND id = ?2`,
		)
		.bind(
			tenantId,
			id,
			changes.url ?? null,
			changes.description ?? null,
			changes.event_types ?? null,
			"rate_limit" in changes ? 1 : 0,
			changes.rate_limit ?? null,
			"ordering_key" in changes ? 1 : 0,
			changes.ordering_key ?? null,
			now,
		)
		.run();
	return result.meta.changes > 0;
}

export async function deleteEndpoint(db: D1Database, tenantId: string, id: string): Promise<boolean> {
	const result = await db
		.prepare("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.run();
	return result.meta.changes > 0;
}

export async function saveRotation(
	db: D1Database,
	tenantId: string,
	id: string,
	sealed: { current: string; previous: string; previousExpiresAt: number },
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE webhook_endpoints SET sealed_secret = ?, sealed_previous_secret = ?, previous_expires_at = ?, updated_at = ?
			 WHERE tenant_id = ? AND id = ?`,
		)
		.bind(sealed.current, sealed.previous, sealed.previousExpiresAt, now, tenantId, id)
		.run();
	return result.meta.changes > 0;
}

/** Enables (clearing the failure clock) or disables an endpoint; true when its state changed. */
export async function setEnabled(
	db: D1Database,
	tenantId: string,
	id: string,
	enabled: boolean,
	reason: string | null,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, failing_since = NULL, updated_at = ?
			 WHERE tenant_id = ? AND id = ? AND enabled = ?`,
		)
		.bind(enabled ? 1 : 0, reason, now, tenantId, id, enabled ? 0 : 1)
		.run();
	return result.meta.changes > 0;
}

/** After an attempt: a success clears the failure clock, a failure starts it (once). */
export async function markEndpointOutcome(
	db: D1Database,
	tenantId: string,
	id: string,
	ok: boolean,
	now: number,
): Promise<void> {
	await db
		.prepare(
			ok
				? "UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = ? AND id = ? AND failing_since IS NOT NULL"
				: "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?3) WHERE tenant_id = ?1 AND id = ?2",
		)
		.bind(tenantId, id, ...(ok ? [] : [now]))
		.run();
}
