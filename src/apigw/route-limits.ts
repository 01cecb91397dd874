import type { Context } from "hono";
import type { AppEnv } from "../platform/app-env";
import { rateLimitHeaders } from "../gateway/limiter/headers";
import { refusal } from "../gateway/limiter/refusal";
import type { LimitTarget } from "../gateway/limiter/route-limits";
import { toPolicy } from "../gateway/limiter/route-limits";
import { takeTokens } from "../gateway/limiter/service";
import { sleep } from "../platform/timeout";
import type { GatewayRoute } from "./domain";

/**
 * A route's own rate limits, decided by the platform's limiter (RateLimiter objects through the
 * isolate's leases, src/gateway/limiter/service.ts): `route` rules count every request to the
 * route, `ip` rules each client IP. Over a limit: 429 with RateLimit headers and Retry-After.
 */
export async function limitRoute(c: Context<AppEnv>, tenantId: string, route: GatewayRoute): Promise<void> {
	const rules = route.rate_limits ?? [];
	if (rules.length === 0) return;
	const ip = c.req.header("CF-Connecting-IP") ?? "unknown";
	const byKey = new Map<string, LimitTarget>();
	for (const rule of rules) {
		const key = `apigw:${tenantId}:${route.name}:${rule.scope === "ip" ? `ip:${ip}` : "route"}`;
		const target = byKey.get(key) ?? { key, policies: [], cost: 1, onFailure: rule.on_failure };
		target.policies.push(toPolicy(rule));
		if (rule.on_failure === "closed") target.onFailure = "closed";
		byKey.set(key, target);
	}
	const outcome = await takeTokens(c.env.RATE_LIMITER, [...byKey.values()]);
	const headers = rateLimitHeaders(outcome.views, Date.now());
	// Shaping (a leaky_bucket rule): the request waits for its turn, holding no CPU.
	if (outcome.allowed) return outcome.delayMs > 0 ? sleep(outcome.delayMs) : undefined;
	throw refusal(outcome, headers);
}
