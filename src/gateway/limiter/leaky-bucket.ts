/**
 * leaky_bucket: shaping, not only policing. Units drain at `limit` per window, one every
 * `interval` = window / limit ms. A request that arrives while the bucket is busy is not refused
 * but delayed until its turn; it is refused only when that wait would exceed `maxDelayMs`.
 *
 * This is GCRA (the virtual scheduling algorithm) written with the bucket's level instead of the
 * theoretical arrival time: TAT = at + level × interval. A request of n units arriving at `now`
 * moves the TAT to max(TAT, now) + n × interval and may go at TAT − burst × interval, i.e. after
 * max(0, (level − burst) × interval) ms; `burst` units may go at once from an idle bucket.
 * Never leased (see leasable() in domain.ts): every request needs its own turn.
 */

export type LeakyState = { kind: "leaky_bucket"; level: number; at: number };

/** How long a request may be held back when a rule does not say (`max_delay_ms`). */
export const DEFAULT_MAX_DELAY_MS = 1000;
/** The longest a gateway or service rule may hold a request back. */
export const MAX_DELAY_LIMIT_MS = 30_000;

export type LeakyShape = { intervalMs: number; burst: number; maxDelayMs: number };

/** Drains the bucket up to `now`. */
export function drain(shape: LeakyShape, state: LeakyState, now: number): LeakyState {
	if (now <= state.at) return state;
	return { kind: "leaky_bucket", level: Math.max(0, state.level - (now - state.at) / shape.intervalMs), at: now };
}

/** Units that would be admitted now (possibly delayed): those whose wait stays within maxDelayMs. */
export function leakyRoom(shape: LeakyShape, state: LeakyState): number {
	return Math.max(0, Math.floor(shape.burst + shape.maxDelayMs / shape.intervalMs - state.level + 1e-9));
}

/** The most units one request can ever have: a full burst plus what drains within the longest wait. */
export function leakyCapacity(shape: LeakyShape): number {
	return Math.floor(shape.burst + shape.maxDelayMs / shape.intervalMs + 1e-9);
}

/** How long the request that brought the bucket to this (drained) state waits for its turn. */
export function leakyDelayMs(shape: LeakyShape, state: LeakyState): number {
	return Math.max(0, (state.level - shape.burst) * shape.intervalMs);
}

/** Milliseconds until `n` more units would be admitted within maxDelayMs. */
export function leakyWaitMs(shape: LeakyShape, state: LeakyState, n: number): number {
	return Math.max(0, Math.ceil((state.level + n - shape.burst) * shape.intervalMs - shape.maxDelayMs - 1e-9));
}

/** Milliseconds until the bucket is empty. */
export function leakyResetMs(shape: LeakyShape, state: LeakyState): number {
	return Math.max(0, Math.ceil(state.level * shape.intervalMs - 1e-9));
}
