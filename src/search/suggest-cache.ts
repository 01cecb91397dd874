import { TtlCache } from "../platform/ttl-cache";

/**
 * The isolate's cache of suggest answers, as the JSON text of their `suggestions` array (plain
 * strings: nothing of a request is kept), keyed by tenant, index, normalized prefix and limit.
 *
 * - Admission: while the cache is under half its bounds every answer is stored; past that, a key is
 *   stored on its second ask within ADMIT_WINDOW_MS (or at once when the caller says it is hot, e.g.
 *   a 1–3 character prefix), so a stream of one-off long prefixes does not evict the hot ones.
 * - Refreshed ahead: the first hit on an answer past half its TTL says so (once), and the caller
 *   asks the shards again in the background, so a key asked all the time never misses.
 * - Bounded: MAX_ENTRIES answers and MAX_CHARS characters of JSON (oldest first out), and the
 *   candidates waiting for their second ask separately.
 * - Versioned: every write to an index through this isolate takes a new sequence number, and an
 *   answer counts only if it was asked of the shards after the index's last write here. So a write
 *   drops the index's answers at once (O(1), no scan), and an answer whose shard call was already
 *   under way when the write landed is never stored as fresh.
 * - Other isolates do not see this isolate's writes: their answers live at most TTL_MS.
 */

/** How long an answer is served from an isolate that did not see the write that changed it. */
export const SUGGEST_TTL_MS = 5000;
/** A key asked twice within this window is stored. */
export const ADMIT_WINDOW_MS = 10_000;
export const MAX_ENTRIES = 20_000;
/** ~2 bytes per character in V8 at worst: about 16 MB of the isolate's 128 MB. */
export const MAX_CHARS = 8_000_000;
const MAX_CANDIDATES = 50_000;
/** Indexes whose last write is remembered; older ones fall under a floor that covers them all. */
const MAX_WRITTEN_INDEXES = 10_000;

type Entry = { json: string; seq: number; storedAt: number; refreshing: boolean };
export type CachedAnswer = { json: string; refresh: boolean };

export class SuggestCache {
	readonly #answers: TtlCache<string, Entry>;
	readonly #candidates: TtlCache<string, true>;
	readonly #ttlMs: number;
	/** Below these, every answer is admitted on its first ask. */
	readonly #freeEntries: number;
	readonly #freeChars: number;
	/** The sequence number of each index's last write in this isolate. */
	readonly #written = new Map<string, number>();
	/** Answers asked at or before this sequence number are stale (set when a write record is dropped). */
	#floor = 0;
	#seq = 0;

	constructor(
		options: {
			ttlMs?: number;
			maxEntries?: number;
			maxChars?: number;
			admitWindowMs?: number;
			/** The share of the bounds filled before admission asks for a second ask (default 0.5). */
			freeShare?: number;
			name?: string;
		} = {},
	) {
		this.#ttlMs = options.ttlMs ?? SUGGEST_TTL_MS;
		const freeShare = options.freeShare ?? 0.5;
		this.#freeEntries = (options.maxEntries ?? MAX_ENTRIES) * freeShare;
		this.#freeChars = (options.maxChars ?? MAX_CHARS) * freeShare;
		this.#answers = new TtlCache<string, Entry>({
			ttlMs: this.#ttlMs,
			maxEntries: options.maxEntries ?? MAX_ENTRIES,
			maxWeight: options.maxChars ?? MAX_CHARS,
			weigh: (entry) => entry.json.length,
			name: options.name,
		});
		this.#candidates = new TtlCache<string, true>({
			ttlMs: options.admitWindowMs ?? ADMIT_WINDOW_MS,
			maxEntries: MAX_CANDIDATES,
		});
	}

	/** Answers held and their characters (for tests and figures). */
	get size(): { entries: number; chars: number } {
		return { entries: this.#answers.size, chars: this.#answers.weight };
	}

	/**
	 * The stored answer for a key, if fresh and asked after the index's last write here; `refresh`
	 * is true on the first hit past half its TTL (the caller refreshes it, then `put`s as hot).
	 */
	get(index: string, key: string, now = Date.now()): CachedAnswer | undefined {
		const hit = this.#answers.get(fullKey(index, key), now);
		if (!hit) return undefined;
		if (hit.seq <= this.#staleUpTo(index)) {
			this.#answers.delete(fullKey(index, key));
			return undefined;
		}
		const refresh = !hit.refreshing && now - hit.storedAt >= this.#ttlMs / 2;
		if (refresh) hit.refreshing = true;
		return { json: hit.json, refresh };
	}

	/** A ticket to take before asking the shards; `put` with it stores only if no write came after. */
	ticket(): number {
		return ++this.#seq;
	}

	/** Stores an answer asked with `ticket` (on its second ask, or at once when `hot`); says whether it did. */
	put(index: string, key: string, json: string, ticket: number, hot: boolean, now = Date.now()): boolean {
		if (ticket <= this.#staleUpTo(index)) return false;
		const full = fullKey(index, key);
		const free = this.#answers.size < this.#freeEntries && this.#answers.weight < this.#freeChars;
		if (!hot && !free && this.#candidates.get(full, now) === undefined) {
			this.#candidates.set(full, true, undefined, now);
			return false;
		}
		this.#candidates.delete(full);
		this.#answers.set(full, { json, seq: ticket, storedAt: now, refreshing: false }, undefined, now);
		// Not kept when heavier than the whole budget.
		return this.#answers.get(full, now) !== undefined;
	}

	/** A write to an index through this isolate: every answer of it asked before now is stale. */
	written(index: string): void {
		this.#written.delete(index);
		this.#written.set(index, ++this.#seq);
		if (this.#written.size <= MAX_WRITTEN_INDEXES) return;
		const oldest = this.#written.entries().next();
		if (oldest.done) return;
		this.#written.delete(oldest.value[0]);
		this.#floor = Math.max(this.#floor, oldest.value[1]);
	}

	#staleUpTo(index: string): number {
		return Math.max(this.#floor, this.#written.get(index) ?? 0);
	}
}

function fullKey(index: string, key: string): string {
	return `${index}\n${key}`;
}
