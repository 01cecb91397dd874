import type { Fingerprint, StoredResponse } from "./domain";
import { TtlCache } from "../../platform/ttl-cache";

/**
 * Isolate-wide cache of completed idempotency records (plain data). A completed record never
 * changes until it expires, so replays can be answered here without a Durable Object round trip.
 */

type Entry = { fingerprint: Fingerprint; response: StoredResponse };

const MAX_ENTRIES = 5_000;
const MAX_BODY_CHARS = 64 * 1024;
// Each entry lives until its record's own expiry (set per entry); the default is never used.
const entries = new TtlCache<string, Entry>({ ttlMs: 0, maxEntries: MAX_ENTRIES, name: "idempotency_replays" });

export function recallReplay(scope: string, now: number): Entry | null {
	return entries.get(scope, now) ?? null;
}

/** Keeps a completed record until `expiresAt` (ms), unless its body is too large to keep in memory. */
export function rememberReplay(scope: string, entry: Entry, expiresAt: number, now = Date.now()): void {
	if (entry.response.body.length > MAX_BODY_CHARS) return;
	entries.set(scope, entry, expiresAt - now, now);
}

export function forgetReplay(scope: string): void {
	entries.delete(scope);
}
