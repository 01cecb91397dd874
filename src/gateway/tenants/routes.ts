import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import { insertApiKey, listApiKeys, revokeApiKey } from "./api-keys-db";
import type { ApiKeyRow } from "./api-keys-db";
import type { Tenant } from "./db";
import { findTenant, insertTenantWithKey, listTenants, setRouteLimits } from "./db";
import { newId } from "../../platform/crypto";
import { generateApiKey, hashSecret, keyPrefix } from "./domain";
import { DEFAULT_ROUTE_LIMITS, routeLimitsSchema } from "../limiter/route-limits";
import { AppError } from "../../platform/errors";
import { adminAuth } from "./admin-auth";
import { forgetTenantKeys } from "./middleware";
import { validate } from "../../platform/validation";
import { adminDocs as docs } from "../openapi";
import { createFirstSigningSecret } from "../signing-secrets/service";

const tenantParams = z.object({ tenantId: z.string().regex(/^ten_[0-9a-f]{24}$/, "not a tenant id") });
const keyParams = tenantParams.extend({ keyId: z.string().regex(/^key_[0-9a-f]{24}$/, "not a key id") });
const newTenantBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const newKeyBody = z.object({ name: z.string().trim().min(1).max(200).default("default") }).strict();
const limitsBody = z.object({ rules: routeLimitsSchema }).strict();
const listQuery = z.object({
	limit: z.coerce.number().int().min(1).max(200).default(50),
	cursor: z.string().max(100).optional(),
});

/** The operator's API: tenants, their API keys and their gateway limits. */
export const adminRoutes = new Hono<AppEnv>()
	.use(adminAuth())
	.post("/tenants", docs.createTenant, validate("json", newTenantBody), async (c) => {
		const { name } = c.req.valid("json");
		const apiKey = generateApiKey();
		const tenant = { id: newId("ten"), name, createdAt: Date.now() };
		const key = { id: newId("key"), name: "default", hash: await hashSecret(apiKey), prefix: keyPrefix(apiKey) };
		await insertTenantWithKey(c.env.DB, tenant, key);
		// Its first signing secret for outbound deliveries, shown this once (like the API key).
		const signing = await createFirstSigningSecret(c.env, tenant.id, tenant.createdAt);
		return c.json(
			{
				tenant_id: tenant.id,
				name,
				api_key: apiKey,
				api_key_id: key.id,
				signing_secret: signing?.secret ?? null,
				signing_secret_id: signing?.row.id ?? null,
				created_at: iso(tenant.createdAt),
			},
			201,
		);
	})
	.get("/tenants", docs.listTenants, validate("query", listQuery), async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const tenants = await listTenants(c.env.DB, limit, cursor ?? null);
		const next = tenants.length === limit ? (tenants.at(-1)?.id ?? null) : null;
		return c.json({ tenants: tenants.map(tenantJson), next_cursor: next });
	})
	.get("/tenants/:tenantId", docs.getTenant, validate("param", tenantParams), async (c) => {
		return c.json(tenantJson(await requireTenant(c.env.DB, c.req.valid("param").tenantId)));
	})
	.post(
		"/tenants/:tenantId/keys",
		docs.createKey,
		validate("param", tenantParams),
		validate("json", newKeyBody),
		async (c) => {
			const tenant = await requireTenant(c.env.DB, c.req.valid("param").tenantId);
			const apiKey = generateApiKey();
			const key = {
				id: newId("key"),
				tenantId: tenant.id,
				name: c.req.valid("json").name,
				hash: await hashSecret(apiKey),
				prefix: keyPrefix(apiKey),
				createdAt: Date.now(),
			};
			await insertApiKey(c.env.DB, key);
			return c.json(
				{ key_id: key.id, name: key.name, api_key: apiKey, prefix: key.prefix, created_at: iso(key.createdAt) },
				201,
			);
		},
	)
	.get("/tenants/:tenantId/keys", docs.listKeys, validate("param", tenantParams), async (c) => {
		const tenant = await requireTenant(c.env.DB, c.req.valid("param").tenantId);
		return c.json({ keys: (await listApiKeys(c.env.DB, tenant.id)).map(keyJson) });
	})
	.delete("/tenants/:tenantId/keys/:keyId", docs.revokeKey, validate("param", keyParams), async (c) => {
		const { tenantId, keyId } = c.req.valid("param");
		const row = await revokeApiKey(c.env.DB, tenantId, keyId, Date.now());
		if (!row) throw new AppError(404, "not_found", `No key ${keyId} for tenant ${tenantId}.`);
		forgetTenantKeys(tenantId);
		return c.json(keyJson(row));
	})
	.get("/tenants/:tenantId/limits", docs.getLimits, validate("param", tenantParams), async (c) => {
		const tenant = await requireTenant(c.env.DB, c.req.valid("param").tenantId);
		return c.json({
			source: tenant.routeLimits ? "tenant" : "default",
			rules: tenant.routeLimits ?? DEFAULT_ROUTE_LIMITS,
		});
	})
	.put(
		"/tenants/:tenantId/limits",
		docs.putLimits,
		validate("param", tenantParams),
		validate("json", limitsBody),
		async (c) => {
			const { tenantId } = c.req.valid("param");
			const { rules } = c.req.valid("json");
			if (!(await setRouteLimits(c.env.DB, tenantId, rules)))
				throw new AppError(404, "not_found", `No tenant ${tenantId}.`);
			forgetTenantKeys(tenantId);
			return c.json({ source: "tenant", rules });
		},
	)
	.delete("/tenants/:tenantId/limits", docs.deleteLimits, validate("param", tenantParams), async (c) => {
		const { tenantId } = c.req.valid("param");
		if (!(await setRouteLimits(c.env.DB, tenantId, null)))
			throw new AppError(404, "not_found", `No tenant ${tenantId}.`);
		forgetTenantKeys(tenantId);
		return c.json({ source: "default", rules: DEFAULT_ROUTE_LIMITS });
	});

async function requireTenant(db: D1Database, tenantId: string): Promise<Tenant> {
	const tenant = await findTenant(db, tenantId);
	if (!tenant) throw new AppError(404, "not_found", `No tenant ${tenantId}.`);
	return tenant;
}

function tenantJson(t: Tenant) {
	return { tenant_id: t.id, name: t.name, created_at: iso(t.createdAt), custom_limits: t.routeLimits !== null };
}

function keyJson(k: ApiKeyRow) {
	return {
		key_id: k.id,
		name: k.name,
		prefix: k.prefix,
		created_at: iso(k.created_at),
		revoked_at: k.revoked_at === null ? null : iso(k.revoked_at),
	};
}

function iso(ms: number): string {
	return new Date(ms).toISOString();
}
