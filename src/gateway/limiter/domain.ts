import { z } from "zod";

/**
 * Rate-limit algorithms as pure functions of (policy, state, now). No I/O: the RateLimiter
 * Durable Object stores the state, the lease client in each isolate spends leased tokens.
 *
 * - token_bucket: `limit` tokens refill per `windowSeconds`, the bucket holds `burst ?? limit`.
 * - fixed_window: at most `limit` per aligned window of `windowSeconds`.
 * - sliding_window: Cloudflare's sliding window counter: the previous window's count weighted by
 *   the share of it still inside the sliding window, plus the current window's count.
 */

export type Algorithm = "token_bucket" | "sliding_window" | "fixed_window";

export type Policy = {
	/** Name shown in RateLimit headers and 429 errors ("burst", "daily", a resource name). */
	name: string;
	algorithm: Algorithm;
	limit: number;
	windowSeconds: number;
	/** Bucket capacity for token_bucket; defaults to `limit`. Ignored by the window algorithms. */
	burst?: number;
};

export type PolicyState =
	| { kind: "token_bucket"; tokens: number; at: number }
	| { kind: "fixed_window"; start: number; count: number }
	| { kind: "sliding_window"; start: number; curr: number; prev: number };

/** What a caller may know of one policy after a decision. */
export type PolicyView = {
	name: string;
	limit: number;
	windowSeconds: number;
	remaining: number;
	/** Milliseconds until the quota is fully restored (window end, or a full bucket). */
	resetMs: number;
};

export const ALGORITHMS = ["token_bucket", "sliding_window", "fixed_window"] as const;

/** A policy and its state as the RateLimiter object stores them (parsed when read back). */
export const storedPolicyStateSchema = z.object({
	policy: z.object({
		name: z.string(),
		algorithm: z.enum(ALGORITHMS),
		limit: z.number(),
		windowSeconds: z.number(),
		burst: z.number().optional(),
	}),
	state: z.discriminatedUnion("kind", [
		z.object({ kind: z.literal("token_bucket"), tokens: z.number(), at: z.number() }),
		z.object({ kind: z.literal("fixed_window"), start: z.number(), count: z.number() }),
		z.object({ kind: z.literal("sliding_window"), start: z.number(), curr: z.number(), prev: z.number() }),
	]),
}) satisfies z.ZodType<{ policy: Policy; state: PolicyState }>;

/** The longest of several waits, or null when any of them is never (null). */
export function longestWait(waits: readonly (number | null)[]): number | null {
	let longest = Number.NEGATIVE_INFINITY;
	for (const wait of waits) {
		if (wait === null) return null;
		longest = Math.max(longest, wait);
	}
	return longest;
}

/** The most a policy can ever admit at once: a request costing more is never allowed. */
export function capacityOf(policy: Policy): number {
	return policy.algorithm === "token_bucket" ? (policy.burst ?? policy.limit) : policy.limit;
}

/** A fresh state for a policy, as of `now`. */
export function initialState(policy: Policy, now: number): PolicyState {
	const w = windowMs(policy);
	switch (policy.algorithm) {
		case "token_bucket":
			return { kind: "token_bucket", tokens: capacityOf(policy), at: now };
		case "fixed_window":
			return { kind: "fixed_window", start: alignedStart(now, w), count: 0 };
		case "sliding_window":
			return { kind: "sliding_window", start: alignedStart(now, w), curr: 0, prev: 0 };
	}
}

/** Brings a state forward to `now` (refill, window roll-over); resets it if the algorithm changed. */
export function advance(policy: Policy, state: PolicyState | undefined, now: number): PolicyState {
	if (!state || state.kind !== policy.algorithm) return initialState(policy, now);
	const w = windowMs(policy);
	switch (state.kind) {
		case "token_bucket": {
			const elapsed = Math.max(0, now - state.at);
			const tokens = Math.min(capacityOf(policy), state.tokens + elapsed * (policy.limit / w));
			return { kind: "token_bucket", tokens, at: Math.max(now, state.at) };
		}
		case "fixed_window": {
			const start = alignedStart(now, w);
			return start === state.start ? state : { kind: "fixed_window", start, count: 0 };
		}
		case "sliding_window": {
			const start = alignedStart(now, w);
			if (start === state.start) return state;
			const prev = start - state.start === w ? state.curr : 0;
			return { kind: "sliding_window", start, curr: 0, prev };
		}
	}
}

/** Whole units available now (state must be advanced to `now`). */
export function available(policy: Policy, state: PolicyState, now: number): number {
	switch (state.kind) {
		case "token_bucket":
			return Math.max(0, Math.floor(state.tokens + 1e-9));
		case "fixed_window":
			return Math.max(0, policy.limit - state.count);
		case "sliding_window":
			return Math.max(0, Math.floor(policy.limit - slidingEstimate(policy, state, now) + 1e-9));
	}
}

/** Takes `n` units (caller checked `available`). */
export function consume(state: PolicyState, n: number): PolicyState {
	switch (state.kind) {
		case "token_bucket":
			return { ...state, tokens: state.tokens - n };
		case "fixed_window":
			return { ...state, count: state.count + n };
		case "sliding_window":
			return { ...state, curr: state.curr + n };
	}
}

/**
 * Gives back `n` units that were taken at `takenAt` and never used (an expired lease). Only units
 * still counted where they were taken are returned: a window that has rolled over forgets them.
 */
export function credit(policy: Policy, state: PolicyState, n: number, takenAt: number): PolicyState {
	const w = windowMs(policy);
	switch (state.kind) {
		case "token_bucket":
			return { ...state, tokens: Math.min(capacityOf(policy), state.tokens + n) };
		case "fixed_window":
			return alignedStart(takenAt, w) === state.start ? { ...state, count: Math.max(0, state.count - n) } : state;
		case "sliding_window": {
			const takenStart = alignedStart(takenAt, w);
			if (takenStart === state.start) return { ...state, curr: Math.max(0, state.curr - n) };
			if (takenStart === state.start - w) return { ...state, prev: Math.max(0, state.prev - n) };
			return state;
		}
	}
}

/** Milliseconds until `n` units are available, or null if they never can be (n > capacity). */
export function waitMs(policy: Policy, state: PolicyState, n: number, now: number): number | null {
	if (n > capacityOf(policy)) return null;
	if (available(policy, state, now) >= n) return 0;
	const w = windowMs(policy);
	switch (state.kind) {
		case "token_bucket":
			return Math.ceil((n - state.tokens) / (policy.limit / w));
		case "fixed_window":
			return state.start + w - now;
		case "sliding_window": {
			// Within this window the previous count decays linearly; find when estimate + n <= limit.
			const room = policy.limit - state.curr - n;
			if (room >= 0 && state.prev > 0) {
				const elapsedNeeded = w * (1 - room / state.prev);
				return Math.max(0, Math.ceil(state.start + elapsedNeeded - now));
			}
			// Otherwise wait for the next window, where this window's count becomes the previous one.
			const nextStart = state.start + w;
			const after = policy.limit - n;
			const elapsedNeeded = state.curr > 0 ? w * Math.max(0, 1 - after / state.curr) : 0;
			return Math.max(0, Math.ceil(nextStart + elapsedNeeded - now));
		}
	}
}

/** Milliseconds until the quota is fully restored: what `t` / X-RateLimit-Reset report. */
export function resetMs(policy: Policy, state: PolicyState, now: number): number {
	const w = windowMs(policy);
	switch (state.kind) {
		case "token_bucket": {
			const missing = capacityOf(policy) - state.tokens;
			return missing <= 0 ? 0 : Math.ceil(missing / (policy.limit / w));
		}
		case "fixed_window":
			return state.start + w - now;
		case "sliding_window":
			// This window's count weighs on the next window too.
			if (state.curr > 0) return state.start + 2 * w - now;
			return state.prev > 0 ? state.start + w - now : 0;
	}
}

/** How long leased units may be spent: a lease never outlives the window it was taken in. */
export function leaseDeadline(policy: Policy, state: PolicyState, now: number, ttlMs: number): number {
	if (state.kind === "token_bucket") return now + ttlMs;
	return Math.min(now + ttlMs, state.start + windowMs(policy));
}

/**
 * A token bucket is reported as its capacity over the time a full refill takes (burst 400 at
 * 200/s → q=400;w=2), which states both the burst and the long-run rate.
 */
export function viewOf(policy: Policy, state: PolicyState, now: number): PolicyView {
	const capacity = capacityOf(policy);
	return {
		name: policy.name,
		limit: capacity,
		windowSeconds:
			policy.algorithm === "token_bucket"
				? Math.max(1, Math.ceil((policy.windowSeconds * capacity) / policy.limit))
				: policy.windowSeconds,
		remaining: available(policy, state, now),
		resetMs: resetMs(policy, state, now),
	};
}

function windowMs(policy: Policy): number {
	return policy.windowSeconds * 1000;
}

function alignedStart(now: number, w: number): number {
	return Math.floor(now / w) * w;
}

function slidingEstimate(policy: Policy, state: Extract<PolicyState, { kind: "sliding_window" }>, now: number): number {
	const w = windowMs(policy);
	const elapsed = Math.min(w, Math.max(0, now - state.start));
	return state.prev * ((w - elapsed) / w) + state.curr;
}
