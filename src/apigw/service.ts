import { AppError } from "../platform/errors";
import { log } from "../platform/log";
import { checkDestination } from "../platform/destination";
import type { DestinationPolicy } from "../platform/destination";
import { TtlCache } from "../platform/ttl-cache";
import type { RouteRow } from "./db";
import { allRoutes, clearHealth, countRoutes, downUpstreams, findRoute, upsertRoute } from "./db";
import type { GatewayRoute, RouteConfig } from "./domain";
import { APIGW_LIMITS, routeConfigSchema } from "./domain";

/**
 * Route management and the isolate's view of a tenant's routes. Traffic reads routes from an
 * isolate cache (ROUTE_CACHE_MS): a change made here is seen at once by this isolate and within
 * that time by the others. The active health check's "down" verdicts come with the routes.
 */

export type TenantRoutes = { routes: GatewayRoute[]; down: Set<string> };

export const ROUTE_CACHE_MS = 5_000;
const routeCache = new TtlCache<string, TenantRoutes>({
	ttlMs: ROUTE_CACHE_MS,
	maxEntries: 5_000,
	name: "gateway_routes",
});

/** Validates every upstream against the destination policy, then stores the route. */
export async function saveRoute(
	env: Env,
	tenantId: string,
	name: string,
	config: RouteConfig,
	policy: DestinationPolicy,
	now: number,
): Promise<GatewayRoute> {
	const fields = config.upstreams.flatMap((u, i) => {
		const check = checkDestination(u.url, policy);
		return check.ok ? [] : [{ path: `upstreams.${i}.url`, message: check.reason }];
	});
	if (fields.length > 0)
		throw new AppError(400, "destination_not_allowed", `Upstream not allowed: ${fields[0]?.message}.`, { fields });
	if (new Set(config.upstreams.map((u) => u.url)).size !== config.upstreams.length)
		throw new AppError(400, "validation_failed", "Upstream URLs must be distinct.");
	const existing = await findRoute(env.DB, tenantId, name);
	if (!existing && (await countRoutes(env.DB, tenantId)) >= APIGW_LIMITS.maxRoutesPerTenant) {
		throw new AppError(
			422,
			"route_limit_reached",
			`A tenant has at most ${APIGW_LIMITS.maxRoutesPerTenant} gateway routes.`,
		);
	}
	const row = await upsertRoute(
		env.DB,
		{ tenantId, name, pathPrefix: config.path_prefix, config: JSON.stringify(config) },
		now,
	);
	if (!row) throw new AppError(409, "prefix_taken", `Another route already serves the prefix ${config.path_prefix}.`);
	// Health verdicts were about the old upstreams.
	if (existing) await clearHealth(env.DB, tenantId, name);
	forgetRoutes(tenantId);
	return toRoute(row);
}

/** A stored row as a route; a row that no longer parses (a schema change) is a bug, logged and thrown. */
export function toRoute(row: RouteRow): GatewayRoute {
	const parsed = routeConfigSchema.safeParse(JSON.parse(row.config));
	if (!parsed.success) {
		log.error("stored gateway route does not parse", { tenant_id: row.tenant_id, name: row.name });
		throw new AppError(500, "internal_error", "A stored gateway route could not be read.");
	}
	return { ...parsed.data, name: row.name, version: row.version };
}

export function routeJson(row: RouteRow) {
	const { name, version, ...config } = toRoute(row);
	return { name, ...config, version, created_at: row.created_at, updated_at: row.updated_at };
}

/** A tenant's routes and down upstreams, from this isolate's cache or D1. */
export async function tenantRoutes(env: Env, tenantId: string): Promise<TenantRoutes> {
	const cached = routeCache.get(tenantId);
	if (cached) return cached;
	const [rows, down] = await Promise.all([
		allRoutes(env.DB, tenantId, APIGW_LIMITS.maxRoutesPerTenant),
		downUpstreams(env.DB, tenantId),
	]);
	const value = { routes: rows.map(toRoute), down: new Set(down.map((d) => downKey(d.route_name, d.upstream_url))) };
	routeCache.set(tenantId, value);
	return value;
}

export function downKey(routeName: string, url: string): string {
	return `${routeName}\n${url}`;
}

export function forgetRoutes(tenantId: string): void {
	routeCache.delete(tenantId);
}
