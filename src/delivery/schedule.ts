/**
 * The delivery engine's pure decisions (no I/O): when to try again, what an answer means, and how a
 * lane paces and orders its deliveries. Shared by every destination kind (webhooks today,
 * notifications later).
 */

export type AttemptAnswer =
	| { kind: "response"; status: number; retryAfter: string | null }
	| { kind: "error"; message: string; refused: boolean };

export type Decision =
	| { kind: "succeeded" }
	| { kind: "retry"; delaySeconds: number }
	| { kind: "dead"; reason: string }
	/** The destination said it is gone for good (410): stop, and disable it. */
	| { kind: "gone"; reason: string };

/**
 * Delay before attempt n+1 (index n-1 = after the n-th failure): about immediately, 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h; eight attempts in all, ~27.6 h from the first to the last.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;
/** Cloudflare Queues' largest delaySeconds. */
export const MAX_DELAY_SECONDS = 43_200;
/** ±20% jitter, so retries of a burst do not arrive together. */
const JITTER = 0.2;

/** What to do after attempt `attempt` (1-based) got `answer`. `random` in [0, 1). */
export function decide(answer: AttemptAnswer, attempt: number, nowMs: number, random: number): Decision {
	if (answer.kind === "response") {
		if (answer.status >= 200 && answer.status < 300) return { kind: "succeeded" };
		if (answer.status === 410) return { kind: "gone", reason: "the endpoint answered 410 Gone" };
	}
	if (answer.kind === "error" && answer.refused)
		return { kind: "dead", reason: `destination refused: ${answer.message}` };
	if (attempt >= MAX_ATTEMPTS) {
		const last = answer.kind === "response" ? `HTTP ${answer.status}` : answer.message;
		return { kind: "dead", reason: `${MAX_ATTEMPTS} attempts failed (last: ${last})` };
	}
	const scheduled = jittered(RETRY_SCHEDULE_SECONDS[attempt - 1] ?? MAX_DELAY_SECONDS, random);
	const asked =
		answer.kind === "response" && (answer.status === 429 || answer.status === 503)
			? retryAfterSeconds(answer.retryAfter, nowMs)
			: null;
	return { kind: "retry", delaySeconds: Math.min(MAX_DELAY_SECONDS, asked ?? scheduled) };
}

export function jittered(seconds: number, random: number): number {
	return Math.max(0, Math.round(seconds * (1 - JITTER + 2 * JITTER * random)));
}

/** Seconds a Retry-After header asks for (delta seconds or an HTTP date), or null when absent or invalid. */
export function retryAfterSeconds(header: string | null, nowMs: number): number | null {
	if (header === null) return null;
	const text = header.trim();
	if (/^\d{1,10}$/.test(text)) return Number(text);
	const at = Date.parse(text);
	if (Number.isNaN(at)) return null;
	return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * A lane's pacing state: a token bucket of capacity 1 refilled at `rate` per second, i.e. deliveries
 * at least 1/rate apart (no bursts: a rate of 10/s never sends 20 within one second).
 */
export type Bucket = { tokens: number; updatedAt: number };

/** Takes the token if it is there (waitMs 0); otherwise reserves nothing and says how long until it is. */
export function takeToken(bucket: Bucket | null, rate: number, nowMs: number): { bucket: Bucket; waitMs: number } {
	const prior = bucket ?? { tokens: 1, updatedAt: nowMs };
	const tokens = Math.min(1, prior.tokens + ((nowMs - prior.updatedAt) / 1000) * rate);
	if (tokens >= 1) return { bucket: { tokens: tokens - 1, updatedAt: nowMs }, waitMs: 0 };
	return { bucket: { tokens, updatedAt: nowMs }, waitMs: Math.ceil(((1 - tokens) / rate) * 1000) };
}
