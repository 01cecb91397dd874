import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { policyFromEnv } from "../platform/destination";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { deleteRoute, findRoute, healthOf, listRoutes } from "./db";
import { ROUTE_NAME_PATTERN, routeConfigSchema } from "./domain";
import { apigwDocs } from "./openapi";
import { forgetRoutes, routeJson, saveRoute } from "./service";

const nameParams = z.object({
	name: z.string().regex(ROUTE_NAME_PATTERN, "lowercase letters, digits, '-' and '_', at most 64"),
});
const listQuery = z
	.object({
		cursor: z.string().regex(ROUTE_NAME_PATTERN, "a cursor from next_cursor").optional(),
		limit: z.coerce.number().int().min(1).max(100).default(50),
	})
	.strict();

/** Tenant API (API key): a tenant's gateway routes to its own upstreams. */
export const gatewayRouteRoutes = new Hono<AppEnv>()
	.get("/", apigwDocs.list, validate("query", listQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const rows = await listRoutes(c.env.DB, c.get("principal").tenantId, cursor ?? null, limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({ routes: page.map(routeJson), next_cursor: rows.length > limit && last ? last.name : null });
	})
	.put("/:name", apigwDocs.put, validate("param", nameParams), validate("json", routeConfigSchema), async (c) => {
		const { name } = c.req.valid("param");
		const tenantId = c.get("principal").tenantId;
		const route = await saveRoute(c.env, tenantId, name, c.req.valid("json"), policyFromEnv(c.env), Date.now());
		const row = await findRoute(c.env.DB, tenantId, route.name);
		if (!row) throw new AppError(404, "not_found", `No gateway route named ${name}.`);
		return c.json(routeJson(row));
	})
	.get("/:name", apigwDocs.get, validate("param", nameParams), async (c) => {
		const { name } = c.req.valid("param");
		const tenantId = c.get("principal").tenantId;
		const row = await findRoute(c.env.DB, tenantId, name);
		if (!row) throw new AppError(404, "not_found", `No gateway route named ${name}.`);
		const health = await healthOf(c.env.DB, tenantId, name);
		return c.json({
			...routeJson(row),
			health: health.map((h) => ({
				url: h.upstream_url,
				healthy: h.healthy === 1,
				status: h.status,
				latency_ms: h.latency_ms,
				error: h.error,
				checked_at: h.checked_at,
			})),
		});
	})
	.delete("/:name", apigwDocs.remove, validate("param", nameParams), async (c) => {
		const { name } = c.req.valid("param");
		const tenantId = c.get("principal").tenantId;
		if (!(await deleteRoute(c.env.DB, tenantId, name)))
			throw new AppError(404, "not_found", `No gateway route named ${name}.`);
		forgetRoutes(tenantId);
		return c.json({ name, deleted: true });
	});
