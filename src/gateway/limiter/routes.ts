import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import type { RateLimitRuleRow } from "./db";
import { deleteRule, findRule, listRules, upsertRule } from "./db";
import type { PolicyView } from "./domain";
import { seconds } from "./headers";
import type { LimitTarget } from "./route-limits";
import { checkAlgorithmFields, limitFields, toPolicy } from "./route-limits";
import { AppError } from "../../platform/errors";
import { peekTokens, takeTokens } from "./service";
import { flushInBackground, recordServiceDecision } from "./decisions";
import { TtlCache } from "../../platform/ttl-cache";
import { validate } from "../../platform/validation";
import { rateLimitDocs as docs } from "../openapi";

const RESOURCE = z
	.string()
	.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "1-128 of letters, digits, '.', '_', ':', '-'");
const KEY = z.string().regex(/^[A-Za-z0-9._:@+=-]{1,256}$/, "1-256 of letters, digits and . _ : @ + = -");
const RULE_TTL_MS = 10_000;
const resourceParam = z.object({ resource: RESOURCE });
const statusParams = z.object({ key: KEY, resource: RESOURCE });

const ruleBody = z
	.object(limitFields)
	.strict()
	.refine((r) => r.burst === undefined || r.algorithm === "token_bucket" || r.algorithm === "leaky_bucket", {
		message: "burst applies to token_bucket and leaky_bucket only",
		path: ["burst"],
	})
	.superRefine(checkAlgorithmFields);
const checkBody = z
	.object({ key: KEY, resource: RESOURCE, tokens: z.number().int().positive().max(1_000_000).default(1) })
	.strict();

// Isolate cache of rules (plain data): a check needs its rule, and D1 must not be on every check's path.
const ruleCache = new TtlCache<string, { rule: RateLimitRuleRow | null }>({
	ttlMs: RULE_TTL_MS,
	maxEntries: 10_000,
	name: "rate_limit_rules",
});

/** Rate limiting as a service: tenants define rules for their own resources and check keys against them. */
export const rateLimitRoutes = new Hono<AppEnv>()
	.put(
		"/rules/:resource",
		docs.putRule,
		validate("param", z.object({ resource: RESOURCE })),
		validate("json", ruleBody),
		async (c) => {
			const { tenantId } = c.get("principal");
			const { resource } = c.req.valid("param");
			const body = c.req.valid("json");
			const rule = await upsertRule(c.env.DB, {
				tenant_id: tenantId,
				resource,
				algorithm: body.algorithm,
				limit: body.limit,
				window_seconds: body.window_seconds,
				burst: body.burst ?? null,
				on_failure: body.on_failure,
				updated_at: Date.now(),
				max_delay_ms: body.max_delay_ms ?? null,
			});
			ruleCache.delete(`${tenantId}:${resource}`);
			return c.json(ruleJson(rule));
		},
	)
	.get("/rules", docs.listRules, async (c) => {
		return c.json({ rules: (await listRules(c.env.DB, c.get("principal").tenantId)).map(ruleJson) });
	})
	.get("/rules/:resource", docs.getRule, validate("param", resourceParam), async (c) => {
		return c.json(ruleJson(await requireRule(c.env.DB, c.get("principal").tenantId, c.req.valid("param").resource)));
	})
	.delete("/rules/:resource", docs.deleteRule, validate("param", resourceParam), async (c) => {
		const { tenantId } = c.get("principal");
		const { resource } = c.req.valid("param");
		if (!(await deleteRule(c.env.DB, tenantId, resource))) throw unknownResource(resource);
		ruleCache.delete(`${tenantId}:${resource}`);
		return c.json({ resource, deleted: true });
	})
	.post("/check", docs.check, validate("json", checkBody), async (c) => {
		const { tenantId } = c.get("principal");
		const { key, resource, tokens } = c.req.valid("json");
		const rule = await requireRule(c.env.DB, tenantId, resource);
		const outcome = await takeTokens(c.env.RATE_LIMITER, [serviceTarget(tenantId, key, rule, tokens)]);
		const view = outcome.views[0];
		const now = Date.now();
		if (recordServiceDecision(tenantId, resource, key, outcome.allowed, now))
			flushInBackground(c.env.DB, () => c.executionCtx);
		if (outcome.allowed) {
			return c.json({
				allowed: true,
				remaining: view?.remaining ?? null,
				limit: rule.limit,
				reset_at: resetAt(view, now),
				retry_after: null,
				degraded: outcome.degraded,
				// A leaky_bucket rule admits a request for later: the caller waits this long first.
				delay_ms: Math.ceil(outcome.delayMs),
			});
		}
		const retryAfter = outcome.retryAfterMs === null ? null : Math.max(1, seconds(outcome.retryAfterMs));
		return c.json({
			allowed: false,
			remaining: view?.remaining ?? 0,
			limit: rule.limit,
			reset_at: resetAt(view, now),
			retry_after: retryAfter,
			degraded: outcome.unavailable,
			delay_ms: null,
		});
	})
	.get("/status/:key/:resource", docs.status, validate("param", statusParams), async (c) => {
		const { tenantId } = c.get("principal");
		const { key, resource } = c.req.valid("param");
		const rule = await requireRule(c.env.DB, tenantId, resource);
		let views: PolicyView[];
		try {
			views = await peekTokens(c.env.RATE_LIMITER, serviceTarget(tenantId, key, rule, 1));
		} catch {
			throw new AppError(
				503,
				"rate_limiter_unavailable",
				"The rate limiter could not be reached; retry shortly.",
				undefined,
				{ "Retry-After": "1" },
			);
		}
		const view = views[0];
		return c.json({
			key,
			resource,
			limit: rule.limit,
			remaining: view?.remaining ?? rule.limit,
			reset_at: resetAt(view, Date.now()),
		});
	});

async function requireRule(db: D1Database, tenantId: string, resource: string): Promise<RateLimitRuleRow> {
	const cacheKey = `${tenantId}:${resource}`;
	let cached = ruleCache.get(cacheKey);
	if (!cached) {
		// Wrapped, so an unknown resource (null) is cached too.
		cached = { rule: await findRule(db, tenantId, resource) };
		ruleCache.set(cacheKey, cached);
	}
	if (!cached.rule) throw unknownResource(resource);
	return cached.rule;
}

function serviceTarget(tenantId: string, key: string, rule: RateLimitRuleRow, cost: number): LimitTarget {
	const policy = toPolicy({
		name: rule.resource,
		algorithm: rule.algorithm,
		limit: rule.limit,
		window_seconds: rule.window_seconds,
		...(rule.burst === null ? {} : { burst: rule.burst }),
		...(rule.max_delay_ms === null ? {} : { max_delay_ms: rule.max_delay_ms }),
	});
	return { key: `svc:${tenantId}:${rule.resource}:${key}`, policies: [policy], cost, onFailure: rule.on_failure };
}

function unknownResource(resource: string): AppError {
	return new AppError(
		404,
		"unknown_resource",
		`No rate-limit rule for resource '${resource}'. Create one with PUT /api/v1/ratelimit/rules/${resource}.`,
	);
}

function resetAt(view: PolicyView | undefined, now: number): number {
	return Math.ceil((now + (view?.resetMs ?? 0)) / 1000);
}

function ruleJson(r: RateLimitRuleRow) {
	return {
		resource: r.resource,
		algorithm: r.algorithm,
		limit: r.limit,
		window_seconds: r.window_seconds,
		burst: r.burst,
		on_failure: r.on_failure,
		max_delay_ms: r.max_delay_ms,
		updated_at: new Date(r.updated_at).toISOString(),
	};
}
