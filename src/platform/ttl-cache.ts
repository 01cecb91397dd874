/**
 * The one isolate-memory cache: plain data only (never a Request, Response, stream or promise of
 * another request), each entry with its own expiry, bounded in size. When full, the oldest entry
 * (insertion order) goes first.
 */
export class TtlCache<K, V> {
	readonly #entries = new Map<K, { value: V; expiresAt: number }>();
	readonly #ttlMs: number;
	readonly #maxEntries: number;

	constructor(options: { ttlMs: number; maxEntries: number }) {
		this.#ttlMs = options.ttlMs;
		this.#maxEntries = options.maxEntries;
	}

	get(key: K, now = Date.now()): V | undefined {
		const hit = this.#entries.get(key);
		if (!hit) return undefined;
		if (hit.expiresAt > now) return hit.value;
		this.#entries.delete(key);
		return undefined;
	}

	set(key: K, value: V, ttlMs = this.#ttlMs, now = Date.now()): void {
		this.#entries.delete(key);
		if (this.#entries.size >= this.#maxEntries) {
			const oldest = this.#entries.keys().next();
			if (!oldest.done) this.#entries.delete(oldest.value);
		}
		this.#entries.set(key, { value, expiresAt: now + ttlMs });
	}

	delete(key: K): void {
		this.#entries.delete(key);
	}

	/** Drops every entry whose value matches (e.g. all cached credentials of one tenant). */
	deleteWhere(matches: (value: V, key: K) => boolean): void {
		for (const [key, entry] of this.#entries) {
			if (matches(entry.value, key)) this.#entries.delete(key);
		}
	}

	clear(): void {
		this.#entries.clear();
	}

	get size(): number {
		return this.#entries.size;
	}
}
