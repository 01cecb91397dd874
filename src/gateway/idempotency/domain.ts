import { z } from "zod";

/**
 * Idempotency records (draft-ietf-httpapi-idempotency-key-header): what one (tenant, key) pair
 * remembers, and the decision a new request with that key gets. No I/O: the IdempotencyShard
 * Durable Objects store these records and applies these functions one request at a time.
 */

/** What pins a key to one intended operation: a repeat must match all three. */
export type Fingerprint = { method: string; path: string; bodyHash: string };

/**
 * The parts of a response that are replayed. `omitted`: the body was over MAX_REPLAY_BODY_CHARS
 * and was not kept (the operation ran; a repeat is told so instead of running it again).
 */
export type StoredResponse = { status: number; body: string; headers: Record<string, string>; omitted?: boolean };

/** Response bodies above this many characters are not kept for replay (8 Mi: 16 chunk rows of a shard). */
export const MAX_REPLAY_BODY_CHARS = 8 * 1024 * 1024;

export type IdempotencyRecord =
	| {
			state: "in_progress";
			fingerprint: Fingerprint;
			token: string;
			lockedUntil: number;
			createdAt: number;
			expiresAt: number;
	  }
	| {
			state: "completed";
			fingerprint: Fingerprint;
			response: StoredResponse;
			createdAt: number;
			completedAt: number;
			expiresAt: number;
	  };

const fingerprintSchema = z.object({ method: z.string(), path: z.string(), bodyHash: z.string() });

/** A stored record, parsed when a shard (or the legacy IdempotencyKey object) reads it back. */
export const idempotencyRecordSchema = z.discriminatedUnion("state", [
	z.object({
		state: z.literal("in_progress"),
		fingerprint: fingerprintSchema,
		token: z.string(),
		lockedUntil: z.number(),
		createdAt: z.number(),
		expiresAt: z.number(),
	}),
	z.object({
		state: z.literal("completed"),
		fingerprint: fingerprintSchema,
		response: z.object({
			status: z.number(),
			body: z.string(),
			headers: z.record(z.string(), z.string()),
			omitted: z.boolean().optional(),
		}),
		createdAt: z.number(),
		completedAt: z.number(),
		expiresAt: z.number(),
	}),
]) satisfies z.ZodType<IdempotencyRecord>;

export type BeginDecision =
	| { kind: "acquired"; token: string; tookOver: boolean }
	| { kind: "replay"; response: StoredResponse; expiresAt: number }
	| { kind: "in_progress"; retryAfterMs: number }
	| { kind: "mismatch"; field: keyof Fingerprint };

export type Timing = { now: number; lockMs: number; retentionMs: number };

/** Keys are 1–255 characters (printable ASCII, so they are safe in headers and logs). */
export const idempotencyKeySchema = z
	.string()
	.min(1, "Idempotency-Key must not be empty")
	.max(255, "Idempotency-Key is at most 255 characters")
	.regex(/^[\x21-\x7E]+$/, "Idempotency-Key is printable ASCII without spaces");

/** Response headers worth replaying; per-request ones (request id, rate limits) are not stored. */
export const REPLAYED_HEADERS = ["content-type", "location"] as const;

/**
 * The decision for a request that brings `fingerprint` under a key whose record is `record`,
 * and the record to store afterwards (null = delete, undefined = unchanged).
 */
export function decideBegin(
	record: IdempotencyRecord | null,
	fingerprint: Fingerprint,
	token: string,
	{ now, lockMs, retentionMs }: Timing,
): { decision: BeginDecision; next: IdempotencyRecord | null | undefined } {
	const live = record !== null && record.expiresAt > now ? record : null;
	const fresh: IdempotencyRecord = {
		state: "in_progress",
		fingerprint,
		token,
		lockedUntil: now + lockMs,
		createdAt: now,
		expiresAt: now + retentionMs,
	};
	if (live === null) return { decision: { kind: "acquired", token, tookOver: false }, next: fresh };
	const field = mismatchedField(live.fingerprint, fingerprint);
	if (field !== null) return { decision: { kind: "mismatch", field }, next: undefined };
	if (live.state === "completed")
		return { decision: { kind: "replay", response: live.response, expiresAt: live.expiresAt }, next: undefined };
	if (live.lockedUntil > now)
		return { decision: { kind: "in_progress", retryAfterMs: live.lockedUntil - now }, next: undefined };
	// The holder's lock ran out (it crashed or hung): this request takes the operation over.
	return { decision: { kind: "acquired", token, tookOver: true }, next: { ...fresh, createdAt: live.createdAt } };
}

/** Completing is only allowed to the current lock holder; a request that lost its lock stores nothing. */
export function decideComplete(
	record: IdempotencyRecord | null,
	token: string,
	response: StoredResponse,
	{ now, retentionMs }: Omit<Timing, "lockMs">,
) {
	if (record === null || record.state !== "in_progress" || record.token !== token)
		return { stored: false as const, next: undefined };
	const next: IdempotencyRecord = {
		state: "completed",
		fingerprint: record.fingerprint,
		response,
		createdAt: record.createdAt,
		completedAt: now,
		expiresAt: now + retentionMs,
	};
	return { stored: true as const, next };
}

/** Releasing (after a 5xx or a rejection) deletes the record if this request still holds its lock. */
export function holdsLock(record: IdempotencyRecord | null, token: string): boolean {
	return record !== null && record.state === "in_progress" && record.token === token;
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
	return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Canonical JSON: object keys sorted, no whitespace, so `{"a":1, "b":2}` and `{"b":2,"a":1}` are
 * the same request. Arrays keep their order (order is meaningful in an array).
 */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
	const entries: [string, unknown][] = Object.entries(value)
		.filter(([, v]) => v !== undefined)
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The text a body is fingerprinted by: canonical JSON when it parses, else the raw text. */
export function canonicalBody(text: string): string {
	return fingerprintBody(text).canonical;
}

/** canonicalBody's text, with the parsed JSON when the body is JSON (`parsed` null otherwise). */
export function fingerprintBody(text: string): { canonical: string; parsed: { value: unknown } | null } {
	if (text.trim() === "") return { canonical: "", parsed: null };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return { canonical: `raw:${text}`, parsed: null };
	}
	return { canonical: canonicalJson(value), parsed: { value } };
}

function mismatchedField(stored: Fingerprint, incoming: Fingerprint): keyof Fingerprint | null {
	if (stored.method !== incoming.method) return "method";
	if (stored.path !== incoming.path) return "path";
	if (stored.bodyHash !== incoming.bodyHash) return "bodyHash";
	return null;
}

/** Hex SHA-256 of a text (the request fingerprint). */
