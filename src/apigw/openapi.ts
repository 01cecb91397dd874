import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { routeConfigSchema } from "./domain";

/** The API gateway's answers as schemas and its routes' OpenAPI descriptions. */

const routeSchema = z
	.object({
		name: z.string(),
		...routeConfigSchema.shape,
		version: z.number().int().describe("Goes up with every change; cached answers of older versions are never served."),
		created_at: z.number().int(),
		updated_at: z.number().int(),
	})
	.meta({ id: "GatewayRoute" });
const healthSchema = z.object({
	url: z.string(),
	healthy: z.boolean(),
	status: z.number().int().nullable(),
	latency_ms: z.number().int().nullable(),
	error: z.string().nullable(),
	checked_at: z.number().int(),
});

const routes = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["API gateway"], access: "tenant", ...doc }));

export const apigwDocs = {
	list: routes({
		summary: "The tenant's gateway routes by name",
		ok: { 200: z.object({ routes: z.array(routeSchema), next_cursor: z.string().nullable() }) },
	}),
	put: routes({
		summary: "Create or replace a gateway route (upstreams checked against the destination policy)",
		ok: { 200: routeSchema },
		errors: [409, 422],
	}),
	get: routes({
		summary: "One gateway route with its upstreams' last active health checks",
		ok: { 200: routeSchema.extend({ health: z.array(healthSchema) }) },
		errors: [404],
	}),
	remove: routes({
		summary: "Delete a gateway route",
		ok: { 200: z.object({ name: z.string(), deleted: z.literal(true) }) },
		errors: [404],
	}),
	traffic: describeRoute(
		apiRoute({
			tags: ["API gateway"],
			access: "none",
			summary: "Proxied traffic to a tenant's upstreams (the route's auth decides: its API key, or none)",
			description:
				"The longest path_prefix of the tenant's routes matches; the answer is the upstream's, with `Floodgate-Cache: HIT|MISS|BYPASS`.",
			ok: { 200: { description: "The upstream's answer, passed through." } },
			errors: [401, 404, 413, 429, 503],
		}),
	),
};
