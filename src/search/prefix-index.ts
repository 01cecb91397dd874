import type { Suggestion, Term } from "./domain";
import { SEARCH_LIMITS, highlightRange, mergeTopK, normalize, oneEditVariants, scoreOf, wordKeys } from "./domain";

/**
 * One shard's terms in memory: a sorted array of word keys, so every key starting with a prefix is
 * one contiguous range found by binary search. Ranges up to SCAN_LIMIT keys are ranked by a scan;
 * larger ones (short prefixes) are ranked once and memoized until the next write. Pure data; the
 * Durable Object owns persistence.
 */

type Entry = { key: string; at: number; term: Term };
type Match = { term: Term; at: number; length: number; fuzzy: boolean };

/** Keys ranked by a plain scan; above this a prefix's top-k is memoized. */
const SCAN_LIMIT = 2000;
/** Keys looked at per one-edit variant: fuzzy matching is a fallback, bounded so it stays cheap. */
const FUZZY_SCAN_LIMIT = 50;
const MAX_MEMOIZED_PREFIXES = 5000;

export class PrefixIndex {
	readonly #terms = new Map<string, Term>();
	readonly #owns: (key: string) => boolean;
	#entries: Entry[] | null = null;
	#alphabet: string[] = [];
	#keys = 0;
	readonly #memo = new Map<string, Match[]>();

	/** `owns` picks the word keys this shard serves (all by default); a term is kept for its owned keys. */
	constructor(owns: (key: string) => boolean = () => true) {
		this.#owns = owns;
	}

	get size(): number {
		return this.#terms.size;
	}

	/** Word keys served (the sorted array's length): what a shard's memory grows with. */
	get keyCount(): number {
		return this.#keys;
	}

	/** How many word keys a term would add to this shard. */
	keysOf(norm: string): number {
		return wordKeys(norm).filter(({ key }) => this.#owns(key)).length;
	}

	has(norm: string): boolean {
		return this.#terms.has(norm);
	}

	get(norm: string): Term | undefined {
		return this.#terms.get(norm);
	}

	/**
	 * Adds a term, or updates one with the same normalized text in place: its keys are unchanged, so
	 * only a new term makes the next suggest re-sort the keys; an update only drops memoized rankings.
	 */
	put(term: Term): void {
		const known = this.#terms.get(term.norm);
		if (known) {
			known.text = term.text;
			known.weight = term.weight;
			known.popularity = term.popularity;
			this.#memo.clear();
			return;
		}
		// One string for both when they are equal (common for lowercase text): less memory per term.
		const text = term.text === term.norm ? term.norm : term.text;
		this.#terms.set(term.norm, { text, norm: term.norm, weight: term.weight, popularity: term.popularity });
		this.#keys += this.keysOf(term.norm);
		this.#invalidate();
	}

	delete(norm: string): boolean {
		const had = this.#terms.delete(norm);
		if (had) {
			this.#keys -= this.keysOf(norm);
			this.#invalidate();
		}
		return had;
	}

	/** Sorts the keys now if a write left them unsorted, so the next suggest does not pay for it. */
	warm(): void {
		this.#sorted();
	}

	clear(): void {
		this.#terms.clear();
		this.#keys = 0;
		this.#invalidate();
	}

	/** The best `limit` terms for a query: exact word-prefix matches, then one-edit matches if too few. */
	suggest(query: string, limit: number): Suggestion[] {
		const prefix = normalize(query);
		if (prefix === "") return [];
		const matches = this.#exact(prefix).slice(0, limit);
		if (matches.length < limit && prefix.length >= SEARCH_LIMITS.fuzzyMinLength) {
			for (const match of this.#fuzzy(prefix, limit)) {
				if (matches.length >= limit) break;
				if (!matches.some((m) => m.term === match.term)) matches.push(match);
			}
		}
		return matches.map(({ term, at, length, fuzzy }) => ({
			text: term.text,
			weight: term.weight,
			popularity: term.popularity,
			score: scoreOf(term),
			highlight: highlightRange(term.text, at, length),
			fuzzy,
		}));
	}

	/** The top SEARCH_LIMITS.maxLimit exact matches of a normalized prefix, best first. */
	#exact(prefix: string): Match[] {
		const memo = this.#memo.get(prefix);
		if (memo) return memo;
		const entries = this.#sorted();
		const [lo, hi] = range(entries, prefix);
		const ranked = rank(entries, lo, hi, SEARCH_LIMITS.maxLimit).map((e): Match => ({
			term: e.term,
			at: e.at,
			length: prefix.length,
			fuzzy: false,
		}));
		if (hi - lo > SCAN_LIMIT) {
			if (this.#memo.size >= MAX_MEMOIZED_PREFIXES) this.#memo.clear();
			this.#memo.set(prefix, ranked);
		}
		return ranked;
	}

	#fuzzy(prefix: string, limit: number): Match[] {
		const entries = this.#sorted();
		let top: Term[] = [];
		const found = new Map<Term, Match>();
		for (const variant of oneEditVariants(prefix, this.#alphabet)) {
			// The typo rule shared by every shard (shards.ts fuzzyShards): the variant starts with the
			// prefix's first or second character, so the shards asked are known and few.
			if (variant[0] !== prefix[0] && variant[0] !== prefix[1]) continue;
			const [lo, hi] = range(entries, variant);
			for (const e of rank(entries, lo, Math.min(hi, lo + FUZZY_SCAN_LIMIT), limit)) {
				if (found.has(e.term)) continue;
				found.set(e.term, { term: e.term, at: e.at, length: variant.length, fuzzy: true });
				top = mergeTopK(top, e.term, limit);
			}
		}
		return top.flatMap((term) => found.get(term) ?? []);
	}

	#sorted(): Entry[] {
		if (this.#entries) return this.#entries;
		const entries: Entry[] = [];
		const chars = new Set<string>();
		for (const term of this.#terms.values()) {
			for (const { key, at } of wordKeys(term.norm)) if (this.#owns(key)) entries.push({ key, at, term });
			for (const c of term.norm) chars.add(c);
		}
		entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
		this.#alphabet = [...chars];
		this.#entries = entries;
		return entries;
	}

	#invalidate(): void {
		this.#entries = null;
		this.#memo.clear();
	}
}

/** [lo, hi) of the entries whose key starts with `prefix` (binary search twice). */
function range(entries: readonly Entry[], prefix: string): [number, number] {
	const lower = (target: string) => {
		let lo = 0;
		let hi = entries.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if ((entries[mid]?.key ?? "") < target) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	};
	return [lower(prefix), lower(`${prefix}\uffff`)];
}

/** The best k distinct terms among entries[lo, hi), each with the entry it first matched by. */
function rank(entries: readonly Entry[], lo: number, hi: number, k: number): Entry[] {
	let top: Term[] = [];
	const first = new Map<Term, Entry>();
	for (let i = lo; i < hi; i++) {
		const entry = entries[i];
		if (!entry || first.has(entry.term)) continue;
		first.set(entry.term, entry);
		top = mergeTopK(top, entry.term, k);
	}
	return top.flatMap((term) => first.get(term) ?? []);
}
