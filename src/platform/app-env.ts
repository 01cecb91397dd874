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

export type AppEnv = {
	Bindings: Env;
	Variables: {
		requestId: string;
		principal: TenantPrincipal;
		/** The Idempotency-Key this request holds, set by the idempotency middleware once acquired. */
		idempotencyKey: string | undefined;
	};
};
