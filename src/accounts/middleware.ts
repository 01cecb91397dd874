import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../platform/app-env";
import { bearerToken } from "../platform/bearer";
import { AppError } from "../platform/errors";
import { sessionLive } from "./service";
import { verifyAccessToken } from "./tokens";

/** The header that names the tenant on end-user requests (required on signup and login). */
export const TENANT_HEADER = "Floodgate-Tenant";

/**
 * Admits a tenant's end user by access token (`Authorization: Bearer <JWT>` from /api/v1/auth/login):
 * signature against the published keys, expiry, and a live session (revocation is seen at once in
 * the isolate that revoked, within 5 s elsewhere). Sets `c.var.endUser = { tenantId, userId,
 * sessionId }`; every query of a route behind it must be scoped by `endUser.tenantId`. A request
 * that also names a tenant in `Floodgate-Tenant` must name the token's own: a token for tenant A
 * never acts for tenant B.
 */
export function endUserAuth(): MiddlewareHandler<AppEnv> {
	return async function endUserAuthMiddleware(c, next) {
		const token = bearerToken(c.req.header("Authorization"));
		const claims = await verifyAccessToken(c.env, token);
		const named = c.req.header(TENANT_HEADER);
		if (!claims || (named !== undefined && named !== claims.tenantId)) throw invalidToken();
		if (!(await sessionLive(c.env, claims.tenantId, claims.sessionId))) throw invalidToken();
		c.set("endUser", { tenantId: claims.tenantId, userId: claims.userId, sessionId: claims.sessionId });
		await next();
	};
}

function invalidToken(): AppError {
	return new AppError(401, "invalid_token", "The access token is invalid, expired or its session was revoked.");
}
