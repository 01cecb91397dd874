import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { ALGORITHMS } from "./limiter/domain";
import { routeLimitsSchema } from "./limiter/route-limits";

/** The gateway's answers as schemas (admin, whoami, rate limiting, echo) and its routes' OpenAPI descriptions. */

const iso = z.iso.datetime();
const tenantSchema = z
	.object({ tenant_id: z.string(), name: z.string(), created_at: iso, custom_limits: z.boolean() })
	.meta({ id: "Tenant" });
const apiKeySchema = z
	.object({ key_id: z.string(), name: z.string(), prefix: z.string(), created_at: iso, revoked_at: iso.nullable() })
	.meta({ id: "ApiKey" });
const limitsSchema = z
	.object({ source: z.enum(["tenant", "default"]), rules: routeLimitsSchema })
	.meta({ id: "GatewayLimits" });
const ruleSchema = z
	.object({
		resource: z.string(),
		algorithm: z.enum(ALGORITHMS),
		limit: z.number().int(),
		window_seconds: z.number().int(),
		burst: z.number().int().nullable(),
		on_failure: z.enum(["open", "closed"]),
		updated_at: iso,
	})
	.meta({ id: "RateLimitRule" });

const admin = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Admin"], access: "admin", ...doc }));
const limits = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Rate limiting"], access: "tenant", ...doc }));

export const adminDocs = {
	createTenant: admin({
		summary: "Create a tenant and its first API key",
		description: "The API key is shown once.",
		ok: {
			201: z.object({
				tenant_id: z.string(),
				name: z.string(),
				api_key: z.string(),
				api_key_id: z.string(),
				created_at: iso,
			}),
		},
	}),
	listTenants: admin({
		summary: "List tenants",
		ok: { 200: z.object({ tenants: z.array(tenantSchema), next_cursor: z.string().nullable() }) },
	}),
	getTenant: admin({ summary: "Read a tenant", ok: { 200: tenantSchema }, errors: [404] }),
	createKey: admin({
		summary: "Issue another API key for a tenant",
		description: "The API key is shown once.",
		ok: {
			201: z.object({ key_id: z.string(), name: z.string(), api_key: z.string(), prefix: z.string(), created_at: iso }),
		},
		errors: [404],
	}),
	listKeys: admin({
		summary: "List a tenant's API keys",
		ok: { 200: z.object({ keys: z.array(apiKeySchema) }) },
		errors: [404],
	}),
	revokeKey: admin({ summary: "Revoke an API key", ok: { 200: apiKeySchema }, errors: [404] }),
	getLimits: admin({ summary: "A tenant's gateway limits", ok: { 200: limitsSchema }, errors: [404] }),
	putLimits: admin({ summary: "Replace a tenant's gateway limits", ok: { 200: limitsSchema }, errors: [404] }),
	deleteLimits: admin({ summary: "Return a tenant to the default limits", ok: { 200: limitsSchema }, errors: [404] }),
};

export const whoamiDoc = describeRoute(
	apiRoute({
		tags: ["Tenant"],
		access: "tenant",
		summary: "Who the caller is",
		description: "Server-Timing: total;dur=<ms> is the Worker's own time (authentication and the limiter included).",
		ok: { 200: z.object({ tenant_id: z.string(), tenant_name: z.string(), api_key_id: z.string() }) },
	}),
);

export const echoDoc = describeRoute(
	apiRoute({
		tags: ["Idempotency"],
		access: "tenant",
		summary: "Echo a JSON object with a fresh id",
		description: "The cheapest POST: try the Idempotency-Key contract here (a replay returns the same echo_id).",
		ok: { 201: z.object({ echo_id: z.string(), received_at: iso, body: z.record(z.string(), z.unknown()) }) },
	}),
);

export const rateLimitDocs = {
	putRule: limits({ summary: "Create or replace the rule of a resource", ok: { 200: ruleSchema } }),
	listRules: limits({ summary: "List the tenant's rules", ok: { 200: z.object({ rules: z.array(ruleSchema) }) } }),
	getRule: limits({ summary: "Read a resource's rule", ok: { 200: ruleSchema }, errors: [404] }),
	deleteRule: limits({
		summary: "Delete a resource's rule",
		ok: { 200: z.object({ resource: z.string(), deleted: z.literal(true) }) },
		errors: [404],
	}),
	check: limits({
		summary: "Take tokens for a key on a resource",
		description: "Always 200: `allowed` says whether the caller may proceed.",
		ok: {
			200: z.object({
				allowed: z.boolean(),
				remaining: z.number().nullable(),
				limit: z.number().int(),
				reset_at: z.number().int().describe("Unix seconds."),
				retry_after: z.number().int().nullable().describe("Seconds, when not allowed."),
				degraded: z.boolean(),
			}),
		},
		errors: [404],
	}),
	status: limits({
		summary: "A key's remaining quota on a resource, without taking any",
		ok: {
			200: z.object({
				key: z.string(),
				resource: z.string(),
				limit: z.number().int(),
				remaining: z.number(),
				reset_at: z.number().int().describe("Unix seconds."),
			}),
		},
		errors: [404],
	}),
};
