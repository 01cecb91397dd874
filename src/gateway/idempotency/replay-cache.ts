import type { Fingerprint, StoredResponse } from "./domain";

/**
 * Isolate-wide cache of completed idempotency records (plain data). A completed record never
 * changes until it expires, so replays can be answered here without a Durable Object round trip.
 */

type Entry = { fingerprint: Fingerprint; response: StoredResponse; expiresAt: number };

const MAX_ENTRIES = 5_000;
const MAX_BODY_CHARS = 64 * 1024;
const entries = new Map<string, Entry>();

export function recallReplay(scope: string, now: number): Entry | null {
	const entry = entries.get(scope);
	if (!entry) return null;
	if (entry.expiresAt > now) return entry;
	entries.delete(scope);
	return null;
}

export function rememberReplay(scope: string, entry: Entry): void {
	if (entry.response.body.length > MAX_BODY_CHARS) return;
	if (entries.size >= MAX_ENTRIES) entries.clear();
	entries.set(scope, entry);
}

export function forgetReplay(scope: string): void {
	entries.delete(scope);
}
