import type { Context } from "hono";
import type { AppEnv } from "../platform/app-env";
import { isAdminCaller } from "../gateway/tenants/admin-auth";
import { tenantAuth } from "../gateway/tenants/middleware";
import { rateLimit } from "../gateway/limiter/middleware";

/**
 * Who is looking: null for an operator (admin token or admin session: platform figures), else the
 * tenant (API key or tenant session, then the gateway limiter, as on every tenant route).
 */
export async function viewerTenant(c: Context<AppEnv>): Promise<string | null> {
	if (await isAdminCaller(c)) return null;
	await tenantAuth()(c, async () => {
		await rateLimit()(c, async () => {});
	});
	return c.get("principal").tenantId;
}
