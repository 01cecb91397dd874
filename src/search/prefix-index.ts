import type { Suggestion, Term } from "./domain";
import type { Entry } from "./key-ranges";
import { SEARCH_LIMITS, highlightRange, mergeTopK, normalize, scoreOf, wordKeys } from "./domain";
import { byKey, existingVariants, isSorted, mergeSorted, nextChars, prefixRange, rankRange } from "./key-ranges";

/**
 * One shard's terms in memory: a sorted array of word keys (every key starting with a prefix is one
 * contiguous range) and, for every prefix whose range is larger than SCAN_LIMIT keys (a node of the
 * key trie with a big subtree), its best terms precomputed, the classic autocomplete design: an
 * exact-prefix suggest is a binary search plus either one map read or a scan of at most SCAN_LIMIT
 * keys. The lists are kept current on every write (a better score or a new term is merged in; a
 * worse score or a deletion shortens a list's guaranteed depth, and a list below the answer size is
 * dropped and rebuilt from its children on its next read). Pure data; the Durable Object owns
 * persistence.
 */

type Match = { term: Term; at: number; length: number; fuzzy: boolean };
/** `terms` is the true best `depth` terms of the prefix, or all of them when it has fewer. */
type TopList = { terms: Term[]; depth: number };

/** Ranges up to this many keys are ranked by a scan; larger ones keep a precomputed list. */
const SCAN_LIMIT = 128;
/** Terms kept per precomputed list: the answer size and a margin that deletions eat into. */
const LIST_DEPTH = SEARCH_LIMITS.maxLimit + 12;
/** Keys a typo search may rank by scanning (variants with a precomputed list cost one read). */
const FUZZY_SCAN_BUDGET = 1500;

export class PrefixIndex {
	readonly #terms = new Map<string, Term>();
	readonly #owns: (key: string) => boolean;
	#entries: Entry[] = [];
	/** Keys of new terms not merged into #entries yet (an import is a burst; they are merged on the next read). */
	#pending: Entry[] = [];
	/**
	 * New full-text keys (at 0), apart: a shard loading its terms in primary-key order gets them
	 * already sorted, so merging them costs no sort (checked, as SQLite orders UTF-8 bytes).
	 */
	#pendingHeads: Entry[] = [];
	readonly #top = new Map<string, TopList>();
	#keys = 0;

	/** `owns` picks the word keys this shard serves (all by default); a term is kept for its owned keys. */
	constructor(owns: (key: string) => boolean = () => true) {
		this.#owns = owns;
	}

	get size(): number {
		return this.#terms.size;
	}

	/** Word keys served: what a shard's memory grows with. */
	get keyCount(): number {
		return this.#keys;
	}

	/** Precomputed prefix lists held (for tests and stats). */
	get listCount(): number {
		return this.#top.size;
	}

	/** How many word keys a term would add to this shard. */
	keysOf(norm: string): number {
		return this.#ownedKeys(norm).length;
	}

	has(norm: string): boolean {
		return this.#terms.has(norm);
	}

	get(norm: string): Term | undefined {
		return this.#terms.get(norm);
	}

	/** Adds a term, or updates one with the same normalized text in place (its keys are unchanged). */
	put(term: Term): void {
		const known = this.#terms.get(term.norm);
		if (known) {
			const before = { ...known };
			known.text = term.text;
			known.weight = term.weight;
			known.popularity = term.popularity;
			if (scoreOf(before) !== scoreOf(known)) this.#rescored(known, scoreOf(known) > scoreOf(before));
			return;
		}
		// One string for both when they are equal (common for lowercase text): less memory per term.
		const text = term.text === term.norm ? term.norm : term.text;
		const added: Term = { text, norm: term.norm, weight: term.weight, popularity: term.popularity };
		this.#terms.set(term.norm, added);
		for (const { key, at } of this.#ownedKeys(term.norm)) {
			(at === 0 ? this.#pendingHeads : this.#pending).push({ key, at, term: added });
			this.#keys++;
			if (this.#top.size > 0) this.#eachList(key, (list) => void mergeTopK(list.terms, added, list.depth));
		}
	}

	delete(norm: string): boolean {
		const term = this.#terms.get(norm);
		if (!term) return false;
		this.#terms.delete(norm);
		const keys = this.#ownedKeys(norm);
		this.#keys -= keys.length;
		for (const { key } of keys) this.#eachList(key, (list, prefix) => this.#drop(list, prefix, term));
		this.#entries = this.#entries.filter((e) => e.term !== term);
		this.#pending = this.#pending.filter((e) => e.term !== term);
		this.#pendingHeads = this.#pendingHeads.filter((e) => e.term !== term);
		return true;
	}

	/** Sorts new keys in and precomputes every large prefix's list now, so the next suggest does not pay for it. */
	warm(): void {
		const entries = this.#sorted();
		this.#listOf(0, entries.length, "");
	}

	clear(): void {
		this.#terms.clear();
		this.#keys = 0;
		this.#entries = [];
		this.#pending = [];
		this.#pendingHeads = [];
		this.#top.clear();
	}

	/** The best `limit` terms for a query: exact word-prefix matches, then one-edit matches if too few. */
	suggest(query: string, limit: number): Suggestion[] {
		const prefix = normalize(query);
		if (prefix === "") return [];
		const matches: Match[] = this.best(prefix, limit).map((term) => this.#match(term, prefix, false));
		if (matches.length < limit && prefix.length >= SEARCH_LIMITS.fuzzyMinLength) {
			const exact = new Set(matches.map((m) => m.term));
			for (const match of this.#fuzzy(prefix, limit, exact)) {
				if (matches.length >= limit) break;
				matches.push(match);
			}
		}
		return matches.map((m) => toSuggestion(m));
	}

	/** The best `limit` (at most SEARCH_LIMITS.maxLimit) terms with a word key starting with a normalized prefix. */
	best(prefix: string, limit: number = SEARCH_LIMITS.maxLimit): Term[] {
		const entries = this.#sorted();
		const [lo, hi] = prefixRange(entries, prefix);
		return this.#listOf(lo, hi, prefix).terms.slice(0, Math.min(limit, SEARCH_LIMITS.maxLimit));
	}

	/** Exact-match suggestions of `terms` (best first, e.g. a stored prefix row) for a normalized prefix. */
	present(terms: readonly Term[], prefix: string, limit: number): Suggestion[] {
		return terms.slice(0, limit).map((term) => toSuggestion(this.#match(term, prefix, false)));
	}

	/** Every prefix of up to `maxLength` characters that some key starts with. */
	shortPrefixes(maxLength: number): string[] {
		const entries = this.#sorted();
		const out: string[] = [];
		const visit = (prefix: string) => {
			for (const c of nextChars(entries, prefix)) {
				out.push(prefix + c);
				if (prefix.length + 1 < maxLength) visit(prefix + c);
			}
		};
		visit("");
		return out;
	}

	/** Where a term's word key starting with `prefix` begins in its normalized text (its smallest such key's). */
	matchAt(term: Term, prefix: string): number {
		let best: { key: string; at: number } | undefined;
		for (const k of this.#ownedKeys(term.norm)) {
			if (k.key.startsWith(prefix) && (!best || k.key < best.key)) best = k;
		}
		return best?.at ?? 0;
	}

	/**
	 * The best terms of entries[lo, hi) (the range of `prefix`): a scan when small, else its list,
	 * built from its children's (theirs from their children's, and so on) when missing.
	 */
	#listOf(lo: number, hi: number, prefix: string): TopList {
		if (hi - lo <= SCAN_LIMIT) return { terms: rankRange(this.#entries, lo, hi, LIST_DEPTH), depth: LIST_DEPTH };
		const known = this.#top.get(prefix);
		if (known) return known;
		const entries = this.#entries;
		let top: Term[] = [];
		let depth: number = LIST_DEPTH;
		let i = lo;
		// The key equal to the prefix sorts first; then one child range per next character.
		for (let e = entries[i]; i < hi && e && e.key.length === prefix.length; e = entries[++i]) {
			top = mergeTopK(top, e.term, LIST_DEPTH);
		}
		while (i < hi) {
			const child = prefix + (entries[i]?.key[prefix.length] ?? "");
			const [, end] = prefixRange(entries, child, i, hi);
			const list = this.#listOf(i, end, child);
			depth = Math.min(depth, list.depth);
			for (const term of list.terms) top = mergeTopK(top, term, LIST_DEPTH);
			i = end;
		}
		const built = { terms: top.slice(0, depth), depth };
		if (prefix !== "") this.#top.set(prefix, built);
		return built;
	}

	#fuzzy(prefix: string, limit: number, exclude: ReadonlySet<Term>): Match[] {
		const entries = this.#sorted();
		let top: Term[] = [];
		const found = new Map<Term, string>();
		let budget = FUZZY_SCAN_BUDGET;
		for (const variant of existingVariants(entries, prefix)) {
			const [lo, hi] = prefixRange(entries, variant);
			if (lo === hi) continue;
			const listed = this.#top.get(variant);
			let terms: Term[];
			if (listed) terms = listed.terms;
			else {
				// A range without a list is ranked by a scan, cut at the budget: typo matches are a fallback.
				const end = Math.min(hi, lo + Math.max(budget, 0));
				budget -= end - lo;
				terms = rankRange(entries, lo, end, limit);
			}
			for (const term of terms.slice(0, limit)) {
				if (exclude.has(term) || found.has(term)) continue;
				found.set(term, variant);
				top = mergeTopK(top, term, limit);
			}
			if (budget <= 0) break;
		}
		return top.map((term) => this.#match(term, found.get(term) ?? prefix, true));
	}

	#match(term: Term, prefix: string, fuzzy: boolean): Match {
		return { term, at: this.matchAt(term, prefix), length: prefix.length, fuzzy };
	}

	/** Calls `fn` with each precomputed list of a key's prefixes. */
	#eachList(key: string, fn: (list: TopList, prefix: string) => void): void {
		for (let n = 1; n <= key.length; n++) {
			const prefix = key.slice(0, n);
			const list = this.#top.get(prefix);
			if (list) fn(list, prefix);
		}
	}

	/** A listed term's score changed (already updated in place): keep each of its prefixes' lists exact. */
	#rescored(term: Term, better: boolean): void {
		for (const { key } of this.#ownedKeys(term.norm)) {
			this.#eachList(key, (list, prefix) => {
				const i = list.terms.indexOf(term);
				if (i < 0) {
					if (better) mergeTopK(list.terms, term, list.depth);
					return;
				}
				list.terms.splice(i, 1);
				if (better) {
					mergeTopK(list.terms, term, list.depth);
					return;
				}
				// Worse: a term outside the list may now rank before it, so the list is exact one shorter.
				if (list.terms.length + 1 >= list.depth) list.depth--;
				mergeTopK(list.terms, term, list.depth);
				if (list.depth < SEARCH_LIMITS.maxLimit) this.#top.delete(prefix);
			});
		}
	}

	#drop(list: TopList, prefix: string, term: Term): void {
		const i = list.terms.indexOf(term);
		if (i < 0) return;
		const full = list.terms.length >= list.depth;
		list.terms.splice(i, 1);
		if (full) list.depth--;
		if (list.depth < SEARCH_LIMITS.maxLimit) this.#top.delete(prefix);
	}

	#ownedKeys(norm: string): { key: string; at: number }[] {
		return wordKeys(norm).filter(({ key }) => this.#owns(key));
	}

	#sorted(): Entry[] {
		if (this.#pending.length === 0 && this.#pendingHeads.length === 0) return this.#entries;
		const heads = this.#pendingHeads;
		if (!isSorted(heads)) heads.sort(byKey);
		const pending = mergeSorted(heads, this.#pending.sort(byKey));
		this.#entries = this.#entries.length === 0 ? pending : mergeSorted(this.#entries, pending);
		this.#pending = [];
		this.#pendingHeads = [];
		return this.#entries;
	}
}

function toSuggestion({ term, at, length, fuzzy }: Match): Suggestion {
	return {
		text: term.text,
		weight: term.weight,
		popularity: term.popularity,
		score: scoreOf(term),
		highlight: highlightRange(term.text, at, length),
		fuzzy,
	};
}
