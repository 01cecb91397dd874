import { Hono } from "hono";
import type { AppEnv } from "../../platform/app-env";
import { whoamiDoc } from "../openapi";

/** Who the caller is: the cheapest authenticated route (also the gateway benchmark's target). */
export const metaRoutes = new Hono<AppEnv>().get("/", whoamiDoc, (c) => {
	const p = c.get("principal");
	return c.json({ tenant_id: p.tenantId, tenant_name: p.tenantName, api_key_id: p.apiKeyId });
});
