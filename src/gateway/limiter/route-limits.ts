import { z } from "zod";
import type { Policy } from "./domain";
import { ALGORITHMS } from "./domain";
import { MAX_DELAY_LIMIT_MS } from "./leaky-bucket";
import { MAX_LOG_LIMIT } from "./sliding-log";

/**
 * Gateway limits for the platform's own routes. A rule says which requests it covers (method and
 * path prefix), which key it counts against (the tenant, the API key, the client IP, or the
 * device), and its policy. Every rule that covers a request must pass. A `device` rule covers only
 * requests made with a device token; requests with a tenant API key skip it.
 */

export const SCOPES = ["tenant", "api_key", "ip", "device"] as const;
export type Scope = (typeof SCOPES)[number];
export type FailureMode = "open" | "closed";

/** The fields of a limit, shared by gateway rules (below) and the rate-limit service's rules (routes.ts). */
export const limitFields = {
	algorithm: z.enum(ALGORITHMS),
	limit: z.number().int().positive().max(1_000_000_000),
	window_seconds: z
		.number()
		.int()
		.positive()
		.max(31 * 86_400),
	burst: z.number().int().positive().max(1_000_000_000).optional(),
	max_delay_ms: z.number().int().min(0).max(MAX_DELAY_LIMIT_MS).optional(),
	on_failure: z.enum(["open", "closed"]).default("open"),
};

export const routeLimitSchema = z
	.object({
		name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, '-' and '_', at most 64"),
		scope: z.enum(SCOPES),
		...limitFields,
		cost: z.number().int().positive().max(1000).default(1),
		methods: z
			.array(z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]))
			.min(1)
			.optional(),
		path_prefix: z.string().startsWith("/api/v1/").max(200).optional(),
	})
	.strict()
	.superRefine(checkAlgorithmFields);

export const routeLimitsSchema = z
	.array(routeLimitSchema)
	.max(20)
	.refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, "rule names must be unique");

export type RouteLimit = z.output<typeof routeLimitSchema>;

/**
 * The rules of the two newer algorithms, shared by gateway rules and service rules: a log keeps one
 * entry per admitted unit, so its limit is capped; only a leaky bucket delays, so only it has
 * max_delay_ms.
 */
export function checkAlgorithmFields(
	rule: { algorithm: string; limit: number; max_delay_ms?: number | undefined },
	ctx: z.RefinementCtx,
): void {
	if (rule.algorithm === "sliding_window_log" && rule.limit > MAX_LOG_LIMIT) {
		ctx.addIssue({
			code: "custom",
			path: ["limit"],
			message: `sliding_window_log keeps one entry per admitted request: limit must be at most ${MAX_LOG_LIMIT}`,
		});
	}
	if (rule.max_delay_ms !== undefined && rule.algorithm !== "leaky_bucket") {
		ctx.addIssue({ code: "custom", path: ["max_delay_ms"], message: "max_delay_ms applies to leaky_bucket only" });
	}
}

/**
 * The platform defaults, used by every tenant without an override (PUT /api/v1/admin/tenants/{id}/limits).
 * Token buckets absorb bursts; the daily window caps total use. Limiters fail open by default: a
 * limiter outage must not take the API down (Stripe, Envoy and Cloudflare's own limiter do the same).
 */
export const DEFAULT_ROUTE_LIMITS: RouteLimit[] = [
	{
		name: "tenant-burst",
		scope: "tenant",
		algorithm: "token_bucket",
		limit: 200,
		window_seconds: 1,
		burst: 400,
		cost: 1,
		on_failure: "open",
	},
	{
		name: "tenant-daily",
		scope: "tenant",
		algorithm: "fixed_window",
		limit: 5_000_000,
		window_seconds: 86_400,
		cost: 1,
		on_failure: "open",
	},
	{
		name: "key-minute",
		scope: "api_key",
		algorithm: "sliding_window",
		limit: 6000,
		window_seconds: 60,
		cost: 1,
		on_failure: "open",
	},
	// A machine reports once a night and a truck every few seconds: a device needs a few requests
	// a minute; a burst of 30 covers a client draining its outbox after an outage.
	{
		name: "device-minute",
		scope: "device",
		algorithm: "token_bucket",
		limit: 60,
		window_seconds: 60,
		burst: 30,
		cost: 1,
		on_failure: "open",
	},
];

export type LimitTarget = {
	key: string;
	policies: Policy[];
	cost: number;
	onFailure: FailureMode;
	/**
	 * A longer lease than the object's default 3 s, for keys one isolate mostly has to itself (a
	 * device's own budget): fewer object calls; units an isolate holds unused are only returned
	 * later, so a longer lease can under-admit briefly, never over-admit.
	 */
	leaseTtlMs?: number;
};

export type RequestIdentity = {
	tenantId: string;
	apiKeyId: string;
	ip: string;
	method: string;
	path: string;
	deviceId?: string | undefined;
};

/**
 * The limiter targets one request counts against: the covering rules grouped by the key they
 * count on, so that all policies of one key are decided together by one object.
 */
export function targetsFor(rules: readonly RouteLimit[], who: RequestIdentity): LimitTarget[] {
	const byKey = new Map<string, LimitTarget>();
	for (const rule of rules) {
		if (!covers(rule, who.method, who.path)) continue;
		const value = scopeValue(rule.scope, who);
		if (value === null) continue;
		const key = `gw:${who.tenantId}:${rule.scope}:${value}`;
		const target = byKey.get(key) ?? { key, policies: [], cost: rule.cost, onFailure: rule.on_failure };
		target.policies.push(policyOf(rule));
		target.cost = Math.max(target.cost, rule.cost);
		if (rule.on_failure === "closed") target.onFailure = "closed";
		byKey.set(key, target);
	}
	return [...byKey.values()];
}

export function toPolicy(
	rule: Pick<RouteLimit, "name" | "algorithm" | "limit" | "window_seconds" | "burst" | "max_delay_ms">,
): Policy {
	return {
		name: rule.name,
		algorithm: rule.algorithm,
		limit: rule.limit,
		windowSeconds: rule.window_seconds,
		...(rule.burst === undefined ? {} : { burst: rule.burst }),
		...(rule.max_delay_ms === undefined ? {} : { maxDelayMs: rule.max_delay_ms }),
	};
}

// Rules come from constants or cached tenant settings, so their policies can be built once.
const policies = new WeakMap<RouteLimit, Policy>();

function policyOf(rule: RouteLimit): Policy {
	let policy = policies.get(rule);
	if (!policy) {
		policy = toPolicy(rule);
		policies.set(rule, policy);
	}
	return policy;
}

function covers(rule: RouteLimit, method: string, path: string): boolean {
	// Widened to string[] (a safe upcast) so any request method can be looked up.
	const methods: readonly string[] | undefined = rule.methods;
	if (methods && !methods.includes(method)) return false;
	return rule.path_prefix === undefined || path.startsWith(rule.path_prefix);
}

/** The key a rule counts on, or null when the rule does not apply to this caller. */
function scopeValue(scope: Scope, who: RequestIdentity): string | null {
	switch (scope) {
		case "tenant":
			return who.tenantId;
		case "api_key":
			// A device token is limited by the device rules; counting it again as a key would only
			// add a second limiter call per device request.
			return who.deviceId === undefined ? who.apiKeyId : null;
		case "ip":
			return who.ip;
		case "device":
			return who.deviceId ?? null;
	}
}

/** A tenant's stored limits (JSON written only from validated input), parsed again so a bad row cannot widen types. */
export function parseRouteLimits(raw: string | null): RouteLimit[] | null {
	if (raw === null) return null;
	const parsed = routeLimitsSchema.safeParse(JSON.parse(raw));
	return parsed.success ? parsed.data : null;
}
