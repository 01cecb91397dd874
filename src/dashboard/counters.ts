import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../platform/app-env";
import { statusClass } from "./domain";

/**
 * Per-isolate running totals the dashboard records each minute: responses by status class and
 * gateway limiter decisions by policy, per tenant (key "" = requests without a tenant). Like
 * GET /metrics, an isolate sees only what it served; totals restart with the isolate.
 */
const MAX_SCOPES = 1_000;
const MAX_POLICIES_PER_SCOPE = 16;

type ScopeCounts = { status: Map<string, number>; allowed: Map<string, number>; denied: Map<string, number> };

const scopes = new Map<string, ScopeCounts>();

function scopeCounts(tenantId: string): ScopeCounts | undefined {
	let counts = scopes.get(tenantId);
	if (!counts) {
		if (scopes.size >= MAX_SCOPES) return undefined;
		counts = { status: new Map(), allowed: new Map(), denied: new Map() };
		scopes.set(tenantId, counts);
	}
	return counts;
}

function bump(map: Map<string, number>, key: string, by = 1, cap = Infinity): void {
	if (!map.has(key) && map.size >= cap) return;
	map.set(key, (map.get(key) ?? 0) + by);
}

/** Counts every response by status class, for its tenant (when one authenticated) and the platform. */
export function countResponses(): MiddlewareHandler<AppEnv> {
	return async function countResponsesMiddleware(c, next) {
		await next();
		const cls = statusClass(c.res.status);
		const platform = scopeCounts("");
		if (platform) bump(platform.status, cls);
		const tenantId = c.get("principal")?.tenantId;
		const tenant = tenantId ? scopeCounts(tenantId) : undefined;
		if (tenant) bump(tenant.status, cls);
	};
}

/** A gateway limiter decision: every policy of an allowed request, the violated ones of a denied one. */
export function countDecision(tenantId: string, policies: readonly string[], allowed: boolean): void {
	for (const scope of [scopeCounts(""), scopeCounts(tenantId)]) {
		if (!scope) continue;
		for (const p of policies) bump(allowed ? scope.allowed : scope.denied, p, 1, MAX_POLICIES_PER_SCOPE);
	}
}

/** The running totals of one scope ("" = platform) as `_total` series readings. */
export function counterReadings(tenantId: string | null): Record<string, number> {
	const counts = scopes.get(tenantId ?? "");
	const readings: Record<string, number> = {};
	if (!counts) return readings;
	for (const [cls, n] of counts.status) readings[`http_${cls}_total`] = n;
	for (const [p, n] of counts.allowed) readings[`limit_allowed:${p}_total`] = n;
	for (const [p, n] of counts.denied) readings[`limit_denied:${p}_total`] = n;
	return readings;
}
