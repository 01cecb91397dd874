import type { PolicyView } from "./domain";

/**
 * Response headers for a limited request: the IETF draft fields (draft-ietf-httpapi-ratelimit-headers,
 * Structured Fields lists) for every policy, and the widespread X-RateLimit-* for the most
 * restrictive one.
 */
export function rateLimitHeaders(views: readonly PolicyView[], now: number): Record<string, string> {
	if (views.length === 0) return {};
	const policy = views.map(policyMember).join(", ");
	const state = views.map((v) => `${sfString(v.name)};r=${v.remaining};t=${seconds(v.resetMs)}`).join(", ");
	const tightest = mostRestrictive(views);
	return {
		"RateLimit-Policy": policy,
		RateLimit: state,
		"X-RateLimit-Limit": String(tightest.limit),
		"X-RateLimit-Remaining": String(tightest.remaining),
		"X-RateLimit-Reset": String(Math.ceil((now + tightest.resetMs) / 1000)),
	};
}

/** Seconds for `t` and Retry-After: whole, rounded up, so a client never retries too early. */
export function seconds(ms: number): number {
	return Math.max(0, Math.ceil(ms / 1000));
}

/** The view a client should watch: least remaining, then the longest wait. */
export function mostRestrictive(views: readonly PolicyView[]): PolicyView {
	return views.reduce((a, b) =>
		b.remaining < a.remaining || (b.remaining === a.remaining && b.resetMs > a.resetMs) ? b : a,
	);
}

// A policy's member of RateLimit-Policy never changes: format each once (plain strings, bounded).
const policyMembers = new Map<string, string>();

function policyMember(v: PolicyView): string {
	const key = `${v.name}\u0000${v.limit}\u0000${v.windowSeconds}`;
	let member = policyMembers.get(key);
	if (member === undefined) {
		member = `${sfString(v.name)};q=${v.limit};w=${v.windowSeconds}`;
		if (policyMembers.size > 10_000) policyMembers.clear();
		policyMembers.set(key, member);
	}
	return member;
}

/** A Structured Fields sf-string (RFC 8941 §3.3.3): quoted, with `\` and `"` escaped. */
function sfString(value: string): string {
	return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}
