/** The API gateway's SQL: routes and the last active health check of each upstream. */

export type RouteRow = {
	tenant_id: string;
	name: string;
	path_prefix: string;
	config: string;
	version: number;
	created_at: number;
	updated_at: number;
};

export type HealthRow = {
	tenant_id: string;
	route_name: string;
	upstream_url: string;
	healthy: number;
	status: number | null;
	latency_ms: number | null;
	error: string | null;
	checked_at: number;
};

const COLUMNS = "tenant_id, name, path_prefix, config, version, created_at, updated_at";

/** Creates or replaces a route (its version goes up on every change); null when the prefix belongs to another route. */
export async function upsertRoute(
	db: D1Database,
	route: { tenantId: string; name: string; pathPrefix: string; config: string },
	now: number,
): Promise<RouteRow | null> {
	const taken = await db
		.prepare("SELECT name FROM gateway_routes WHERE tenant_id = ? AND path_prefix = ? AND name <> ?")
		.bind(route.tenantId, route.pathPrefix, route.name)
		.first<{ name: string }>();
	if (taken) return null;
	return db
		.prepare(
			`INSERT INTO gateway_routes (tenant_id, name, path_prefix, config, version, created_at, updated_at)
			 VALUES (?, ?, ?, ?, 1, ?, ?)
			 ON CONFLICT (tenant_id, name) DO UPDATE SET path_prefix = excluded.path_prefix, config = excluded.config,
			   version = gateway_routes.version + 1, updated_at = excluded.updated_at
			 RETURNING ${COLUMNS}`,
		)
		.bind(route.tenantId, route.name, route.pathPrefix, route.config, now, now)
		.first<RouteRow>();
}

export function countRoutes(db: D1Database, tenantId: string): Promise<number> {
	return db
		.prepare("SELECT COUNT(*) AS n FROM gateway_routes WHERE tenant_id = ?")
		.bind(tenantId)
		.first<{ n: number }>()
		.then((r) => r?.n ?? 0);
}

export function findRoute(db: D1Database, tenantId: string, name: string): Promise<RouteRow | null> {
	return db
		.prepare(`SELECT ${COLUMNS} FROM gateway_routes WHERE tenant_id = ? AND name = ?`)
		.bind(tenantId, name)
		.first<RouteRow>();
}

/** A page of a tenant's routes by name. */
export async function listRoutes(
	db: D1Database,
	tenantId: string,
	after: string | null,
	limit: number,
): Promise<RouteRow[]> {
	const { results } = await db
		.prepare(`SELECT ${COLUMNS} FROM gateway_routes WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?`)
		.bind(tenantId, after ?? "", limit)
		.all<RouteRow>();
	return results;
}

/** All of a tenant's routes (at most maxRoutesPerTenant), for matching traffic. */
export async function allRoutes(db: D1Database, tenantId: string, cap: number): Promise<RouteRow[]> {
	return listRoutes(db, tenantId, null, cap);
}

export async function deleteRoute(db: D1Database, tenantId: string, name: string): Promise<boolean> {
	const [deleted] = await db.batch([
		db.prepare("DELETE FROM gateway_routes WHERE tenant_id = ? AND name = ? RETURNING name").bind(tenantId, name),
		db.prepare("DELETE FROM gateway_upstream_health WHERE tenant_id = ? AND route_name = ?").bind(tenantId, name),
	]);
	return (deleted?.results.length ?? 0) > 0;
}

/** Routes with a health path, oldest-checked first, for the cron's bounded sweep. */
export async function routesToCheck(db: D1Database, limit: number): Promise<RouteRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${COLUMNS} FROM gateway_routes r
			 WHERE json_extract(r.config, '$.health_path') IS NOT NULL
			 ORDER BY (SELECT MIN(h.checked_at) FROM gateway_upstream_health h
			           WHERE h.tenant_id = r.tenant_id AND h.route_name = r.name) ASC NULLS FIRST
			 LIMIT ?`,
		)
		.bind(limit)
		.all<RouteRow>();
	return results;
}

/** Stores health results: one upsert per upstream (8 parameters each) in one batch. */
export async function saveHealth(db: D1Database, rows: readonly HealthRow[]): Promise<void> {
	if (rows.length === 0) return;
	const statement = db.prepare(
		`INSERT INTO gateway_upstream_health (tenant_id, route_name, upstream_url, healthy, status, latency_ms, error, checked_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (tenant_id, route_name, upstream_url) DO UPDATE SET healthy = excluded.healthy,
		   status = excluded.status, latency_ms = excluded.latency_ms, error = excluded.error, checked_at = excluded.checked_at`,
	);
	await db.batch(
		rows.map((r) =>
			statement.bind(
				r.tenant_id,
				r.route_name,
				r.upstream_url,
				r.healthy,
				r.status,
				r.latency_ms,
				r.error,
				r.checked_at,
			),
		),
	);
}

export async function healthOf(db: D1Database, tenantId: string, routeName: string): Promise<HealthRow[]> {
	const { results } = await db
		.prepare(
			`SELECT tenant_id, route_name, upstream_url, healthy, status, latency_ms, error, checked_at
			 FROM gateway_upstream_health WHERE tenant_id = ? AND route_name = ? LIMIT 100`,
		)
		.bind(tenantId, routeName)
		.all<HealthRow>();
	return results;
}

/** Health rows of all a tenant's routes that are currently down (for the proxy's route cache). */
export async function downUpstreams(db: D1Database, tenantId: string): Promise<HealthRow[]> {
	const { results } = await db
		.prepare(
			`SELECT tenant_id, route_name, upstream_url, healthy, status, latency_ms, error, checked_at
			 FROM gateway_upstream_health WHERE tenant_id = ? AND healthy = 0 LIMIT 1600`,
		)
		.bind(tenantId)
		.all<HealthRow>();
	return results;
}

/** Forgets a route's health verdicts (its upstreams changed). */
export async function clearHealth(db: D1Database, tenantId: string, routeName: string): Promise<void> {
	await db
		.prepare("DELETE FROM gateway_upstream_health WHERE tenant_id = ? AND route_name = ?")
		.bind(tenantId, routeName)
		.run();
}
