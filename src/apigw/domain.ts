import { z } from "zod";
import { checkAlgorithmFields, limitFields } from "../gateway/limiter/route-limits";

/**
 * Gateway routes of a tenant's own upstreams: the configuration schema, longest-prefix matching,
 * the upstream URL of a request, and which requests may be retried. Pure: no I/O.
 */

export const APIGW_LIMITS = {
	maxRoutesPerTenant: 100,
	maxUpstreams: 16,
	maxRetries: 3,
	maxTimeoutMs: 30_000,
	/** Request bodies are buffered (a retry must resend them): at most this many bytes. */
	maxRequestBytes: 1_048_576,
	/** safeFetch reads an upstream's answer up to this cap; a longer one is a 502. */
	maxResponseBytes: 8_388_608,
	maxCacheTtlSeconds: 86_400,
	maxHeaders: 20,
} as const;

export const ROUTE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
/** RFC 9110 9.2.2: repeating these has the effect of sending them once. */
const IDEMPOTENT_METHODS: readonly string[] = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"];
/** Headers a route may not set on the upstream request (credentials and framing are the proxy's). */
const RESERVED_HEADERS =
	/^(host|content-length|transfer-encoding|connection|authorization|cookie|x-forwarded-.*|cf-.*)$/i;

const upstreamSchema = z
	.object({
		url: z.string().url().max(2048),
		weight: z.number().int().min(1).max(100).default(1),
	})
	.strict();

const routeLimitSchema = z
	.object({
		name: z.string().regex(ROUTE_NAME_PATTERN, "lowercase letters, digits, '-' and '_', at most 64"),
		scope: z.enum(["route", "ip"]).default("route"),
		...limitFields,
	})
	.strict()
	.superRefine(checkAlgorithmFields);

export const routeConfigSchema = z
	.object({
		path_prefix: z
			.string()
			.max(200)
			.regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "a path starting with '/'"),
		methods: z.array(z.enum(PROXY_METHODS)).min(1).optional(),
		upstreams: z.array(upstreamSchema).min(1).max(APIGW_LIMITS.maxUpstreams),
		strip_prefix: z.boolean().default(false),
		timeout_ms: z.number().int().min(100).max(APIGW_LIMITS.maxTimeoutMs).default(10_000),
		retries: z.number().int().min(0).max(APIGW_LIMITS.maxRetries).default(1),
		cache_ttl: z.number().int().min(1).max(APIGW_LIMITS.maxCacheTtlSeconds).optional(),
		auth: z.enum(["api_key", "none"]),
		rate_limits: z.array(routeLimitSchema).max(5).optional(),
		headers: z
			.record(
				z
					.string()
					.regex(/^[A-Za-z0-9-]{1,64}$/, "a header name")
					.refine((n) => !RESERVED_HEADERS.test(n), {
						message: "a reserved header",
					}),
				z.string().max(1024),
			)
			.refine((h) => Object.keys(h).length <= APIGW_LIMITS.maxHeaders, `at most ${APIGW_LIMITS.maxHeaders} headers`)
			.optional(),
		health_path: z.string().startsWith("/").max(200).optional(),
		passive_health: z
			.object({
				failures: z.number().int().min(1).max(100).default(3),
				window_seconds: z.number().int().min(1).max(600).default(30),
				cooldown_seconds: z.number().int().min(1).max(3600).default(30),
			})
			.strict()
			.default({ failures: 3, window_seconds: 30, cooldown_seconds: 30 }),
	})
	.strict();

export type RouteConfig = z.output<typeof routeConfigSchema>;
export type GatewayRoute = RouteConfig & { name: string; version: number };

/** The route whose prefix is the longest one covering `path` (segment-aligned), or null. */
export function matchRoute<R extends { path_prefix: string }>(routes: readonly R[], path: string): R | null {
	let best: R | null = null;
	for (const route of routes) {
		if (!coversPath(route.path_prefix, path)) continue;
		if (!best || route.path_prefix.length > best.path_prefix.length) best = route;
	}
	return best;
}

/** `/api` covers `/api`, `/api/` and `/api/x`, never `/apix`. */
export function coversPath(prefix: string, path: string): boolean {
	if (prefix === "/" || prefix === path) return true;
	const base = prefix.endsWith("/") ? prefix : `${prefix}/`;
	return path.startsWith(base) || `${path}/` === base;
}

/** The URL an upstream receives: its own base path, then the request path (less the prefix when stripped), then the query. */
export function upstreamUrl(
	upstream: string,
	route: Pick<RouteConfig, "path_prefix" | "strip_prefix">,
	path: string,
	search: string,
): string {
	const base = new URL(upstream);
	let rest = path;
	if (route.strip_prefix && route.path_prefix !== "/") {
		const prefix = route.path_prefix.replace(/\/$/, "");
		rest = path.slice(prefix.length);
	}
	const joined = `${base.pathname.replace(/\/$/, "")}/${rest.replace(/^\//, "")}`;
	base.pathname = joined;
	base.search = search;
	return base.toString();
}

/** Whether a failed attempt may be sent again: idempotent methods, or any method carrying an Idempotency-Key. */
export function isRetryable(method: string, hasIdempotencyKey: boolean): boolean {
	return hasIdempotencyKey || IDEMPOTENT_METHODS.includes(method.toUpperCase());
}

/** Statuses that count as the upstream failing (passive health, retries): the gateway-ish 5xx. */
export function isUpstreamFailure(status: number): boolean {
	return status === 502 || status === 503 || status === 504;
}

/** Exponential backoff before retry `attempt` (1-based), with full jitter from `random` in [0,1). */
export function retryDelayMs(attempt: number, random: number): number {
	const ceiling = Math.min(25 * 2 ** (attempt - 1), 200);
	return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}
