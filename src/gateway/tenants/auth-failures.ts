import type { Context } from "hono";
import type { AppEnv } from "../../platform/app-env";
import type { Policy } from "../limiter/domain";
import { seconds } from "../limiter/headers";
import { takeTokens } from "../limiter/service";
import { AppError } from "../../platform/errors";
import { TtlCache } from "../../platform/ttl-cache";

/**
 * Failed authentication attempts, limited per client IP in front of the credential lookup. Only
 * failures count (an unknown, revoked or no longer valid key or device token): a client that
 * authenticates never spends anything. Once an IP is over the limit, every credential this isolate
 * has not already verified gets 429 from it until the window resets, before any D1 read.
 * Requests without `CF-Connecting-IP` (Cloudflare always sets it; only service-binding and local
 * test requests lack it) are not limited.
 */

/** 20 failed attempts per IP per minute; the 21st and everything after it until the reset get 429. */
export const AUTH_FAILURE_POLICY: Policy = {
	name: "auth_failures",
	algorithm: "fixed_window",
	limit: 20,
	windowSeconds: 60,
};

const MAX_BLOCKED_IPS = 10_000;

// Isolate-wide: IPs the limiter denied, until their window resets (plain data, per-entry expiry).
const blockedIps = new TtlCache<string, number>({ ttlMs: 60_000, maxEntries: MAX_BLOCKED_IPS });

/** 429 when this request's IP is over its failed-attempt limit (checked before any D1 read). */
export function assertNotBlocked(c: Context<AppEnv>): void {
	const ip = c.req.header("CF-Connecting-IP");
	if (ip === undefined) return;
	const until = blockedIps.get(ip);
	if (until !== undefined) throw tooManyFailures(until - Date.now());
}

/**
 * Counts a failed attempt against the IP and throws: `refusal` (the 401) while the IP is within
 * its limit, 429 once it is over. A limiter that cannot be reached fails open (the 401 still goes out).
 */
export async function failAuthentication(c: Context<AppEnv>, refusal: AppError): Promise<never> {
	const ip = c.req.header("CF-Connecting-IP");
	if (ip === undefined) throw refusal;
	const outcome = await takeTokens(c.env.RATE_LIMITER, [
		{ key: `auth:ip:${ip}`, policies: [AUTH_FAILURE_POLICY], cost: 1, onFailure: "open" },
	]);
	if (outcome.allowed) throw refusal;
	const waitMs = outcome.retryAfterMs ?? AUTH_FAILURE_POLICY.windowSeconds * 1000;
	blockedIps.set(ip, Date.now() + waitMs, waitMs);
	throw tooManyFailures(waitMs);
}

function tooManyFailures(waitMs: number): AppError {
	const retryAfter = Math.max(1, seconds(waitMs));
	return new AppError(
		429,
		"rate_limited",
		`Too many failed authentication attempts from this address (limit ${AUTH_FAILURE_POLICY.limit} per ${AUTH_FAILURE_POLICY.windowSeconds} s); retry later.`,
		{ policies: [AUTH_FAILURE_POLICY.name], retry_after: retryAfter },
		{ "Retry-After": String(retryAfter) },
	);
}
