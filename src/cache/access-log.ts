/**
 * A CacheShard's reads, kept in memory and written to SQLite in one statement per flush, so a
 * cache hit is a read and never a row write (Durable Object storage bills rows written, and a
 * write holds the answer until it is durable). The shard flushes before anything that reads the
 * figures (eviction, stats) or changes entries, when FLUSH_KEYS keys are waiting, and FLUSH_MS
 * after the first unflushed read. If the object leaves memory in between, at most that last
 * second of recency and hit counts is lost: LRU/LFU order and hit_rate are then approximate by
 * that much, never the entries themselves.
 */

/** Distinct keys read before a flush is due at once. */
export const FLUSH_KEYS = 256;
/** How long the first unflushed read waits for its flush. */
export const FLUSH_MS = 1_000;

/** What one flush writes: per key [key, last access, hits since the last flush]; the shard's counters. */
export type AccessBatch = { touches: [string, number, number][]; hits: number; misses: number };

export class AccessLog {
	#touches = new Map<string, { at: number; hits: number }>();
	#hits = 0;
	#misses = 0;

	hit(key: string, now: number): void {
		const seen = this.#touches.get(key);
		if (seen) {
			seen.at = Math.max(seen.at, now);
			seen.hits += 1;
		} else this.#touches.set(key, { at: now, hits: 1 });
		this.#hits += 1;
	}

	miss(): void {
		this.#misses += 1;
	}

	/** Adds a batch drained elsewhere (an isolate's L1 hits of this shard's keys). */
	merge(batch: AccessBatch): void {
		for (const [key, at, hits] of batch.touches) {
			const seen = this.#touches.get(key);
			if (seen) {
				seen.at = Math.max(seen.at, at);
				seen.hits += hits;
			} else this.#touches.set(key, { at, hits });
		}
		this.#hits += batch.hits;
		this.#misses += batch.misses;
	}

	/** Drops a key's recency and per-entry hits (its entry was replaced or deleted); the counters stay. */
	forget(key: string): void {
		this.#touches.delete(key);
	}

	/** Keys waiting; a flush is due at FLUSH_KEYS. */
	get size(): number {
		return this.#touches.size;
	}

	get empty(): boolean {
		return this.#touches.size === 0 && this.#misses === 0;
	}

	/** Takes everything waiting (the log is empty after). */
	drain(): AccessBatch {
		const touches = [...this.#touches].map(([key, t]): [string, number, number] => [key, t.at, t.hits]);
		const batch = { touches, hits: this.#hits, misses: this.#misses };
		this.#touches = new Map();
		this.#hits = 0;
		this.#misses = 0;
		return batch;
	}
}
