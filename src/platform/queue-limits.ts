/**
 * Cloudflare Queues production limits that the local simulator does not enforce, and the pure
 * helpers that keep producers and consumers inside them.
 */

export const MAX_MESSAGE_BYTES = 128 * 1024;
export const MAX_SEND_BATCH_MESSAGES = 100;
export const MAX_SEND_BATCH_BYTES = 256 * 1024;
/** Per-message overhead the service counts on top of the body (a safety margin, not a spec). */
const MESSAGE_OVERHEAD_BYTES = 100;

/**
 * Points per queue message. A consumer batch holds up to 100 messages, so at most 2,500 points:
 * at 10 bound parameters a row that is ~250 location statements plus <= 250 position upserts,
 * well under D1's 1,000 queries per Worker invocation. 25 points are ~5 KB, far below 128 KB.
 */
export const POINTS_PER_MESSAGE = 25;

export function chunk<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

/** UTF-8 bytes of `body` as JSON: counted on the string, without encoding it (ingest counts every message). */
export function byteLength(body: unknown): number {
	return utf8Length(JSON.stringify(body));
}

/**
 * The length TextEncoder's output would have: 1 byte below U+0080, 2 below U+0800, 4 for a
 * surrogate pair, 3 for every other code unit (a lone surrogate becomes U+FFFD, 3 bytes).
 */
export function utf8Length(text: string): number {
	let bytes = text.length;
	for (let i = 0; i < text.length; i++) {
		const unit = text.charCodeAt(i);
		if (unit < 0x80) continue;
		if (unit < 0x800) {
			bytes += 1;
			continue;
		}
		bytes += 2;
		// A high surrogate with its low one: 4 bytes for the two units, so the low one adds nothing.
		const next = text.charCodeAt(i + 1);
		if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
	}
	return bytes;
}

/** The size a message body counts for against MAX_MESSAGE_BYTES (JSON, plus the service's overhead). */
export function messageBytes(body: unknown): number {
	return byteLength(body) + MESSAGE_OVERHEAD_BYTES;
}

/** The largest of `bodies` when it exceeds MAX_MESSAGE_BYTES (so it can never be sent), else null. */
export function oversizedMessage(bodies: readonly unknown[]): { bytes: number; maxBytes: number } | null {
	let largest = 0;
	for (const body of bodies) largest = Math.max(largest, messageBytes(body));
	return largest > MAX_MESSAGE_BYTES ? { bytes: largest, maxBytes: MAX_MESSAGE_BYTES } : null;
}

/**
 * Groups message bodies (or items carrying one, read by `bodyOf`) into sendBatch calls of <= 100
 * messages and <= 256 KB. Throws when a
 * single body exceeds 128 KB: producers check `oversizedMessage` first, so this is a bug, not input.
 */
export function groupForSendBatch<T>(bodies: readonly T[], bodyOf: (item: T) => unknown = (item) => item): T[][] {
	const groups: T[][] = [];
	let current: T[] = [];
	let bytes = 0;
	for (const body of bodies) {
		const size = messageBytes(bodyOf(body));
		if (size > MAX_MESSAGE_BYTES) throw new Error(`queue message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
		if (current.length === MAX_SEND_BATCH_MESSAGES || bytes + size > MAX_SEND_BATCH_BYTES) {
			groups.push(current);
			current = [];
			bytes = 0;
		}
		current.push(body);
		bytes += size;
	}
	if (current.length > 0) groups.push(current);
	return groups;
}

/** Retry delay for a message on its `attempts`-th delivery: 2, 4, 8 … seconds, capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
	return backoffSeconds(attempts, 300);
}

/**
 * The telemetry consumers' schedule (floodgate-telemetry and its DLQ): 2, 4 … 512 s, then every
 * 15 minutes. The max_retries below must equal wrangler.toml's (a unit test reads both): retries
 * 1-12 wait 1,022 + 3 × 900 = 3,722 s ≈ 62 min, so an hour-long D1 outage is outlasted before a
 * message reaches the DLQ; the DLQ's 100 retries (Cloudflare's maximum) wait 82,922 s ≈ 23 h.
 */
export const TELEMETRY_RETRY_CAP_SECONDS = 900;
export const TELEMETRY_MAX_RETRIES = 12;
export const TELEMETRY_DLQ_MAX_RETRIES = 100;

export function telemetryRetryDelaySeconds(attempts: number): number {
	return backoffSeconds(attempts, TELEMETRY_RETRY_CAP_SECONDS);
}

/** How long `maxRetries` retries wait in all: the delays after deliveries 1 … maxRetries. */
export function retrySpanSeconds(maxRetries: number, delayFor: (attempts: number) => number): number {
	let total = 0;
	for (let attempts = 1; attempts <= maxRetries; attempts++) total += delayFor(attempts);
	return total;
}

/** 2 × 2^(attempts-1) seconds, capped (Cloudflare allows delaySeconds up to 43,200). */
function backoffSeconds(attempts: number, capSeconds: number): number {
	const exponent = Math.max(0, Math.min(attempts, 20) - 1);
	return Math.min(capSeconds, 2 * 2 ** exponent);
}
