import type { MiddlewareHandler } from "hono";
import type { AppEnv, TenantPrincipal } from "../../platform/app-env";
import { findKeyByHash } from "./api-keys-db";
import { parseRouteLimits } from "../limiter/route-limits";
import { hashSecret, isWellFormedApiKey } from "./domain";
import { AppError } from "../../platform/errors";
import { bearerToken } from "../../platform/bearer";
import { TtlCache } from "../../platform/ttl-cache";

type CachedKey = { principal: TenantPrincipal | null; revoked: boolean };

const MAX_CACHED_KEYS = 10_000;

// Isolate-wide cache of verified keys (plain data), so D1 is not on every request's path.
// Entries live AUTH_CACHE_SECONDS; revocation here clears them at once, other isolates follow
// within that time.
// The TTL is per entry (AUTH_CACHE_SECONDS is an env var); the constructor's is only a default.
const keyCache = new TtlCache<string, CachedKey>({ ttlMs: 60_000, maxEntries: MAX_CACHED_KEYS });

/** Authenticates `Authorization: Bearer <api_key>` and sets `principal`. */
export function tenantAuth(): MiddlewareHandler<AppEnv> {
	return async function tenantAuthMiddleware(c, next) {
		const token = bearerToken(c.req.header("Authorization"));
		if (!isWellFormedApiKey(token)) {
			throw new AppError(401, "unauthorized", "Malformed API key: expected fg_live_ followed by 40 hex characters.");
		}
		const hash = await hashSecret(token);
		const entry = await lookup(c.env.DB, hash, Number(c.env.AUTH_CACHE_SECONDS) * 1000);
		if (entry.revoked) throw new AppError(401, "unauthorized", "This API key has been revoked.");
		if (!entry.principal) throw new AppError(401, "unauthorized", "Unknown API key.");
		c.set("principal", entry.principal);
		await next();
	};
}

/** Drops cached keys of a tenant (after a revocation or a change of its limits). */
export function forgetTenantKeys(tenantId: string): void {
	keyCache.deleteWhere((entry) => entry.principal?.tenantId === tenantId);
}

async function lookup(db: D1Database, hash: string, ttlMs: number): Promise<CachedKey> {
	const cached = keyCache.get(hash);
	if (cached) return cached;
	const row = await findKeyByHash(db, hash);
	const entry: CachedKey = {
		principal: row
			? {
					tenantId: row.tenant_id,
					tenantName: row.tenant_name,
					apiKeyId: row.key_id,
					routeLimits: parseRouteLimits(row.route_limits),
				}
			: null,
		revoked: row?.revoked_at != null,
	};
	keyCache.set(hash, entry, ttlMs);
	return entry;
}
