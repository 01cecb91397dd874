import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, TenantPrincipal } from "../../platform/app-env";
import { findKeyByHash } from "./api-keys-db";
import { parseRouteLimits } from "../limiter/route-limits";
import { hashSecret, isWellFormedApiKey } from "./domain";
import { AppError } from "../../platform/errors";
import { bearerToken } from "../../platform/bearer";
import { assertNotBlocked, failAuthentication } from "./auth-failures";
import { CredentialCache } from "./credential-cache";
import { dashboardSession } from "../../dashboard/session-cookie";

/** Verified keys an isolate keeps, and (apart, so they never evict those) unknown or revoked ones. */
export const MAX_CACHED_KEYS = 10_000;
export const MAX_REJECTED_KEYS = 10_000;

// Isolate-wide cache of keys by hash (plain data), so D1 is not on every request's path, nor on a
// repeated bad key's. Entries live AUTH_CACHE_SECONDS; revocation here clears them at once, other
// isolates follow within that time.
const keyCache = new CredentialCache<TenantPrincipal>({
	maxVerified: MAX_CACHED_KEYS,
	maxRejected: MAX_REJECTED_KEYS,
	name: "api_keys",
});

const UNKNOWN = "Unknown API key.";
const REVOKED = "This API key has been revoked.";

/**
 * Authenticates `Authorization: Bearer <api_key>` and sets `principal`. Failed attempts count
 * against the client IP (src/gateway/tenants/auth-failures.ts): over the limit, 429 before D1.
 */
export function tenantAuth(): MiddlewareHandler<AppEnv> {
	return async function tenantAuthMiddleware(c, next) {
		const header = c.req.header("Authorization");
		// No header: the dashboard's session cookie, which stands for the API key it was opened with.
		const session = header === undefined ? await dashboardSession(c) : null;
		if (session?.key_hash) c.set("principal", await lookup(c, session.key_hash));
		else c.set("principal", await principalForApiKey(c, bearerToken(header)));
		await next();
	};
}

/** The tenant an API key belongs to (401 when malformed, unknown or revoked; failures are counted). */
export async function principalForApiKey(c: Context<AppEnv>, token: string): Promise<TenantPrincipal> {
	if (!isWellFormedApiKey(token)) {
		throw new AppError(401, "unauthorized", "Malformed API key: expected fg_live_ followed by 40 hex characters.");
	}
	return lookup(c, await hashSecret(token));
}

/** Drops cached keys of a tenant (after a revocation or a change of its limits). */
export function forgetTenantKeys(tenantId: string): void {
	keyCache.forgetWhere((principal) => principal.tenantId === tenantId);
}

async function lookup(c: Context<AppEnv>, hash: string): Promise<TenantPrincipal> {
	const cached = keyCache.recall(hash);
	if (cached && "verified" in cached) return cached.verified;
	assertNotBlocked(c);
	if (cached) return failAuthentication(c, refusal(cached.rejected === "revoked"));
	const ttlMs = Number(c.env.AUTH_CACHE_SECONDS) * 1000;
	const row = await findKeyByHash(c.env.DB, hash);
	if (!row || row.revoked_at != null) {
		const revoked = row !== null;
		keyCache.reject(hash, revoked ? "revoked" : "unknown", ttlMs);
		return failAuthentication(c, refusal(revoked));
	}
	const principal: TenantPrincipal = {
		tenantId: row.tenant_id,
		tenantName: row.tenant_name,
		apiKeyId: row.key_id,
		routeLimits: parseRouteLimits(row.route_limits),
	};
	keyCache.remember(hash, principal, ttlMs);
	return principal;
}

function refusal(revoked: boolean): AppError {
	return new AppError(401, "unauthorized", revoked ? REVOKED : UNKNOWN);
}
