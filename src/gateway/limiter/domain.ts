import type { LeakyShape, LeakyState } from "./leaky-bucket";
import {
	DEFAULT_MAX_DELAY_MS,
	drain,
	leakyCapacity,
	leakyDelayMs,
	leakyResetMs,
	leakyRoom,
	leakyWaitMs,
} from "./leaky-bucket";
import type { SlidingLogState } from "./sliding-log";
import { appendLog, emptyLog, logResetMs, logWaitMs, loggedUnits, pruneLog } from "./sliding-log";

/**
 * Rate-limit algorithms as pure functions of (policy, state, now). No I/O: the RateLimiter
 * Durable Object stores the state, the lease client in each isolate spends leased tokens.
 *
 * - token_bucket: `limit` tokens refill per `windowSeconds`, the bucket holds `burst ?? limit`.
 * - fixed_window: at most `limit` per aligned window of `windowSeconds`.
 * - sliding_window: Cloudflare's sliding window counter: the previous window's count weighted by
 *   the share of it still inside the sliding window, plus the current window's count.
 * - sliding_window_log: exact, a log of admitted units (sliding-log.ts).
 * - leaky_bucket: shaping, GCRA with a delay up to `maxDelayMs` (leaky-bucket.ts).
 */

export type Algorithm = (typeof ALGORITHMS)[number];

export type Policy = {
	/** Name shown in RateLimit headers and 429 errors ("burst", "daily", a resource name). */
	name: string;
	algorithm: Algorithm;
	limit: number;
	windowSeconds: number;
	/** Bucket capacity for token_bucket (default `limit`) and leaky_bucket (default 1). */
	burst?: number;
	/** leaky_bucket only: the longest a request may be held back before it is refused. */
	maxDelayMs?: number;
};

export type PolicyState =
	| { kind: "token_bucket"; tokens: number; at: number }
	| { kind: "fixed_window"; start: number; count: number }
	| { kind: "sliding_window"; start: number; curr: number; prev: number }
	| SlidingLogState
	| LeakyState;

/** What a caller may know of one policy after a decision. */
export type PolicyView = {
	name: string;
	limit: number;
	windowSeconds: number;
	remaining: number;
	/** Milliseconds until the quota is fully restored (window end, or a full bucket). */
	resetMs: number;
};

export const ALGORITHMS = [
	"token_bucket",
	"sliding_window",
	"fixed_window",
	"sliding_window_log",
	"leaky_bucket",
] as const;

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
	if (policy.algorithm === "leaky_bucket") return leakyCapacity(shapeOf(policy));
	return policy.algorithm === "token_bucket" ? (policy.burst ?? policy.limit) : policy.limit;
}

/**
 * Whether an isolate may hold a lease of this policy's units. Not for sliding_window_log (exact
 * only if every admission is logged at its own time in the object) nor leaky_bucket (every
 * request needs its own turn): rules with these algorithms ask their object on every request.
 */
export function leasable(policy: Policy): boolean {
	return policy.algorithm !== "sliding_window_log" && policy.algorithm !== "leaky_bucket";
}

/** How long the request that just consumed from this state must wait for its turn (leaky_bucket), else 0. */
export function delayOf(policy: Policy, state: PolicyState): number {
	return state.kind === "leaky_bucket" ? leakyDelayMs(shapeOf(policy), state) : 0;
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
		case "sliding_window_log":
			return emptyLog(now);
		case "leaky_bucket":
			return { kind: "leaky_bucket", level: 0, at: now };
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
		case "sliding_window_log":
			return pruneLog(state, w, now);
		case "leaky_bucket":
			return drain(shapeOf(policy), state, now);
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
		case "sliding_window_log":
			return Math.max(0, policy.limit - loggedUnits(state));
		case "leaky_bucket":
			return leakyRoom(shapeOf(policy), state);
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
		case "sliding_window_log":
			return appendLog(state, n);
		case "leaky_bucket":
			return { ...state, level: state.level + n };
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
		case "sliding_window_log":
		case "leaky_bucket":
			// Never leased, so nothing to give back.
			return state;
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
		case "sliding_window_log":
			return logWaitMs(state, policy.limit, w, n, now);
		case "leaky_bucket":
			return leakyWaitMs(shapeOf(policy), state, n);
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
		case "sliding_window_log":
			return logResetMs(state, w, now);
		case "leaky_bucket":
			return leakyResetMs(shapeOf(policy), state);
	}
}

/** How long leased units may be spent: a lease never outlives the window it was taken in. */
export function leaseDeadline(policy: Policy, state: PolicyState, now: number, ttlMs: number): number {
	if (state.kind === "token_bucket") return now + ttlMs;
	if (state.kind === "sliding_window_log" || state.kind === "leaky_bucket") return now;
	return Math.min(now + ttlMs, state.start + windowMs(policy));
}

/**
 * A token bucket is reported as its capacity over the time a full refill takes (burst 400 at
 * 200/s → q=400;w=2), which states both the burst and the long-run rate. A leaky bucket is
 * reported as its drain rate (q=limit;w=window); `remaining` is what it would admit now (some
 * of it delayed), at most q, and `t` the time until it has drained.
 */
export function viewOf(policy: Policy, state: PolicyState, now: number): PolicyView {
	if (policy.algorithm === "leaky_bucket") {
		const { limit, windowSeconds } = policy;
		const remaining = Math.min(limit, available(policy, state, now));
		return { name: policy.name, limit, windowSeconds, remaining, resetMs: resetMs(policy, state, now) };
	}
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

function shapeOf(policy: Policy): LeakyShape {
	return {
		intervalMs: windowMs(policy) / policy.limit,
		burst: policy.burst ?? 1,
		maxDelayMs: policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
	};
}

function alignedStart(now: number, w: number): number {
	return Math.floor(now / w) * w;
}

function slidingEstimate(policy: Policy, state: Extract<PolicyState, { kind: "sliding_window" }>, now: number): number {
	const w = windowMs(policy);
	const elapsed = Math.min(w, Math.max(0, now - state.start));
	return state.prev * ((w - elapsed) / w) + state.curr;
}
