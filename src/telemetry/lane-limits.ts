import type { Context } from "hono";
import type { AppEnv } from "../platform/app-env";
import { rateLimitHeaders, seconds } from "../gateway/limiter/headers";
import { takeTokens } from "../gateway/limiter/service";
import { AppError } from "../platform/errors";
import type { TelemetryMessage } from "./domain";
import { updateCount } from "./domain";
import type { LaneLimits } from "./lanes";
import { backfillPacePolicy, laneTargets } from "./lanes";
import { countIngest } from "./counters";

/**
 * The producer limits of the two lanes, through the gateway limiter: throws 429 `rate_limited`
 * (nothing enqueued, the updates counted as rejected) when a device or the tenant is over its
 * budget for the lane. A limiter outage admits (the limits fail open, like the gateway's).
 */
export async function enforceLaneLimits(c: Context<AppEnv>, messages: readonly TelemetryMessage[]): Promise<void> {
	const tenantId = c.get("principal").tenantId;
	const targets = laneTargets(tenantId, messages, laneLimits(c.env));
	const outcome = await takeTokens(c.env.RATE_LIMITER, targets);
	if (outcome.allowed) return;
	const updates = messages.reduce((sum, m) => sum + updateCount(m), 0);
	countIngest(tenantId, { rejected: updates });
	const retryAfter = outcome.retryAfterMs === null ? null : Math.max(1, seconds(outcome.retryAfterMs));
	const headers = rateLimitHeaders(outcome.views, Date.now());
	throw new AppError(
		429,
		"rate_limited",
		`Ingest rate limit exceeded: ${outcome.violated.join(", ")}; nothing was accepted.`,
		{ policies: outcome.violated, retry_after: retryAfter },
		retryAfter === null ? headers : { ...headers, "Retry-After": String(retryAfter) },
	);
}

/**
 * The backfill consumer's turn for `updates` writes: how long to wait before writing, or, when the
 * pace is too far behind to wait in this invocation, how long until the batch should come back.
 */
export async function backfillTurn(env: Env, updates: number): Promise<{ waitMs: number } | { retryAfterMs: number }> {
	const policy = backfillPacePolicy(Number(env.TELEMETRY_BACKFILL_WRITES_PER_SECOND));
	const outcome = await takeTokens(env.RATE_LIMITER, [
		{ key: "lane:backfill:consumer", policies: [policy], cost: Math.max(1, updates), onFailure: "open" },
	]);
	return outcome.allowed ? { waitMs: outcome.delayMs } : { retryAfterMs: outcome.retryAfterMs ?? 30_000 };
}

function laneLimits(env: Env): LaneLimits {
	return {
		live: {
			device: Number(env.TELEMETRY_LIVE_DEVICE_POINTS_PER_MINUTE),
			tenant: Number(env.TELEMETRY_LIVE_TENANT_POINTS_PER_MINUTE),
		},
		backfill: {
			device: Number(env.TELEMETRY_BACKFILL_DEVICE_POINTS_PER_MINUTE),
			tenant: Number(env.TELEMETRY_BACKFILL_TENANT_POINTS_PER_MINUTE),
		},
	};
}
