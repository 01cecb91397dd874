import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../platform/app-env";
import { rateLimitHeaders } from "./headers";
import { refusal } from "./refusal";
import type { RouteLimit } from "./route-limits";
import { DEFAULT_ROUTE_LIMITS, targetsFor } from "./route-limits";
import { takeTokens } from "./service";
import { sleep } from "../../platform/timeout";
import { countDecision } from "../../dashboard/counters";
import { flushInBackground, recordGatewayDecision } from "./decisions";

export type RateLimitOptions = {
	/** Limits for tenants without their own; defaults to the platform's DEFAULT_ROUTE_LIMITS. */
	defaults?: RouteLimit[];
};

/**
 * The gateway limiter for tenant routes (after tenant auth): every rule covering the request must
 * pass. Admitted responses carry the RateLimit headers; a rejected request gets 429 naming the
 * violated policies, or 503 when a fail-closed limiter cannot answer. A request a leaky_bucket rule
 * delays waits in the Worker until its turn before it reaches the route.
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
	const defaults = options.defaults ?? DEFAULT_ROUTE_LIMITS;
	return async function rateLimitMiddleware(c, next) {
		const principal = c.get("principal");
		const targets = targetsFor(principal.routeLimits ?? defaults, {
			tenantId: principal.tenantId,
			apiKeyId: principal.apiKeyId,
			deviceId: principal.deviceId,
			ip: c.req.header("CF-Connecting-IP") ?? "unknown",
			method: c.req.method,
			path: c.req.path,
		});
		if (targets.length === 0) return next();

		const outcome = await takeTokens(c.env.RATE_LIMITER, targets);
		// The dashboard's allowed/denied-by-policy figures (per-isolate running totals).
		const decided = outcome.allowed ? targets.flatMap((t) => t.policies.map((p) => p.name)) : outcome.violated;
		countDecision(principal.tenantId, decided, outcome.allowed);
		const now = Date.now();
		// The ratelimit_decisions report's counts: a Map update here, a batched D1 write every few seconds.
		const violated = outcome.allowed ? [] : outcome.violated;
		if (recordGatewayDecision(principal.tenantId, targets, outcome.allowed, violated, now))
			flushInBackground(c.env.DB, () => c.executionCtx);
		const headers = rateLimitHeaders(outcome.views, now);
		if (!outcome.allowed) throw refusal(outcome, headers);
		// Shaping (a leaky_bucket rule): the request waits here for its turn, holding no CPU.
		if (outcome.delayMs > 0) await sleep(outcome.delayMs);
		await next();
		// Straight onto the finished response: c.header() after the handler would copy the whole
		// Response per call, and before it each value is set twice (prepared, then merged).
		const target = c.res.headers;
		try {
			for (const [name, value] of Object.entries(headers)) target.set(name, value);
		} catch {
			// An immutable response (one passed through from fetch): copy it once instead.
			for (const [name, value] of Object.entries(headers)) c.header(name, value);
		}
	};
}
