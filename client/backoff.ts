/**
 * Retry timing for devices: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff and Jitter"): the n-th retry waits a uniformly random time in
 * [0, min(cap, base * 2^n)), which spreads a fleet's retries instead of synchronising them.
 */

export type BackoffOptions = { baseMs: number; capMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 5 * 60_000 };

/** The wait before retry number `attempt` (0 for the first retry); `random` returns [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
	const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 52));
	return Math.floor(random() * ceiling);
}

/**
 * A Retry-After header in ms from `nowMs`: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
 * null when absent or unreadable. Never negative.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
	if (header === null) return null;
	const value = header.trim();
	if (/^\d+$/.test(value)) return Number(value) * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Statuses worth retrying: the request may succeed later unchanged. */
export function isRetryableStatus(status: number): boolean {
	return status === 408 || status === 425 || status === 429 || status >= 500;
}
