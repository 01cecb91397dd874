import type { RouteLimit } from "../gateway/limiter/route-limits";

/** The caller of a tenant route, as established by the tenant-auth middleware. */
export type TenantPrincipal = {
	tenantId: string;
	tenantName: string;
	apiKeyId: string;
	/** The tenant's own gateway limits, or null for the platform defaults. */
	routeLimits: RouteLimit[] | null;
	/**
	 * Set when the caller is a device with its own token (src/devices/middleware.ts); absent
	 * for a tenant API key, which may act for any of the tenant's devices (gateway mode).
	 */
	deviceId?: string;
};

/** An end user of a tenant's app, as established by endUserAuth() (src/accounts/middleware.ts). */
export type EndUser = { tenantId: string; userId: string; sessionId: string };

export type AppEnv = {
	Bindings: Env;
	Variables: {
		requestId: string;
		principal: TenantPrincipal;
		/** The Idempotency-Key this request holds, set by the idempotency middleware once acquired. */
		idempotencyKey: string | undefined;
		/** Set by endUserAuth() on routes for a tenant's end users (access token, not an API key). */
		endUser: EndUser;
	};
};
