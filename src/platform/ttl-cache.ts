/**
 * The one isolate-memory cache: plain data only (never a Request, Response, stream or promise of
 * another request), each entry with its own expiry, bounded in size: in entries, and optionally in
 * weight (e.g. bytes, as `weigh` measures a value). When full, the oldest entry (insertion order)
 * goes first.
 */
export class TtlCache<K, V> {
	readonly #entries = new Map<K, { value: V; expiresAt: number; weight: number }>();
	readonly #ttlMs: number;
	readonly #maxEntries: number;
	readonly #maxWeight: number;
	readonly #weigh: ((value: V) => number) | undefined;
	#weight = 0;
	readonly #figures: CacheFigures | undefined;

	/**
	 * `name`: the platform's hot-read caches count their hits and misses under it (GET /metrics).
	 * `maxWeight` with `weigh`: the entries' summed weight stays at most that (a heavier value alone is
	 * not kept).
	 */
	constructor(options: {
		ttlMs: number;
		maxEntries: number;
		name?: string;
		maxWeight?: number;
		weigh?: (value: V) => number;
	}) {
		this.#ttlMs = options.ttlMs;
		this.#maxEntries = options.maxEntries;
		this.#maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
		this.#weigh = options.weigh;
		this.#figures = options.name === undefined ? undefined : figuresOf(options.name);
		this.#figures?.caches.push(this.#entries);
	}

	get(key: K, now = Date.now()): V | undefined {
		const hit = this.#entries.get(key);
		const live = hit !== undefined && hit.expiresAt > now;
		if (this.#figures) {
			if (live) this.#figures.hits += 1;
			else this.#figures.misses += 1;
		}
		if (!hit) return undefined;
		if (live) return hit.value;
		this.delete(key);
		return undefined;
	}

	set(key: K, value: V, ttlMs = this.#ttlMs, now = Date.now()): void {
		this.delete(key);
		const weight = this.#weigh ? this.#weigh(value) : 0;
		if (weight > this.#maxWeight) return;
		while (this.#entries.size >= this.#maxEntries || this.#weight + weight > this.#maxWeight) {
			const oldest = this.#entries.keys().next();
			if (oldest.done) break;
			this.delete(oldest.value);
		}
		this.#entries.set(key, { value, expiresAt: now + ttlMs, weight });
		this.#weight += weight;
	}

	delete(key: K): void {
		const entry = this.#entries.get(key);
		if (!entry) return;
		this.#entries.delete(key);
		this.#weight -= entry.weight;
	}

	/** Drops every entry whose value matches (e.g. all cached credentials of one tenant). */
	deleteWhere(matches: (value: V, key: K) => boolean): void {
		for (const [key, entry] of this.#entries) {
			if (matches(entry.value, key)) this.delete(key);
		}
	}

	clear(): void {
		this.#entries.clear();
		this.#weight = 0;
	}

	get size(): number {
		return this.#entries.size;
	}

	/** The entries' summed weight (0 without `weigh`). */
	get weight(): number {
		return this.#weight;
	}
}

/** Hits and misses of the named caches of this isolate (every instance of a name adds up). */
type CacheFigures = { hits: number; misses: number; caches: { size: number }[] };
const named = new Map<string, CacheFigures>();

function figuresOf(name: string): CacheFigures {
	const found = named.get(name);
	if (found) return found;
	const created: CacheFigures = { hits: 0, misses: 0, caches: [] };
	named.set(name, created);
	return created;
}

export type NamedCacheFigures = { name: string; hits: number; misses: number; entries: number };

/** This isolate's named caches: lookups that hit, that missed, and entries held now. */
export function namedCacheFigures(): NamedCacheFigures[] {
	return [...named].map(([name, f]) => ({
		name,
		hits: f.hits,
		misses: f.misses,
		entries: f.caches.reduce((n, c) => n + c.size, 0),
	}));
}
