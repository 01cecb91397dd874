/** Retry delays: exponential backoff with full jitter, capped (AWS Architecture Blog, 2015). */

export type BackoffOptions = { baseMs: number; capMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 3_600_000 };

/**
 * The delay before retry number `attempt` (1 for the first retry): a uniform pick in
 * [0, min(cap, base * 2^(attempt-1))). `random` returns [0, 1) and is injected for tests.
 */
export function backoffMs(attempt: number, random: () => number, options: BackoffOptions = DEFAULT_BACKOFF): number {
	const exponent = Math.min(Math.max(attempt - 1, 0), 52);
	const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
	return Math.floor(random() * ceiling);
}

/** When the retry of `attempt` may run, as of the injected clock. */
export function nextAttemptAt(
	attempt: number,
	now: () => number,
	random: () => number,
	options: BackoffOptions = DEFAULT_BACKOFF,
): number {
	return now() + backoffMs(attempt, random, options);
}
