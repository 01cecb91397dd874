/** Autocomplete's pure rules: normalization, word keys, scoring, top-k merge and highlighting. */

export type Term = { text: string; norm: string; weight: number; popularity: number };
export type Suggestion = {
	text: string;
	weight: number;
	popularity: number;
	score: number;
	/** The matched part of `text` as [start, end) UTF-16 offsets. */
	highlight: { start: number; end: number };
	/** True when the prefix matched with one edit (typo tolerance). */
	fuzzy: boolean;
};

export const SEARCH_LIMITS = {
	maxTermLength: 100,
	maxTermsPerCall: 10_000,
	/** An index is spread over SHARD_COUNT objects by prefix (src/search/shards.ts). */
	maxTermsPerIndex: 1_000_000,
	/**
	 * Every word key of a shard is in its object's memory (128 MB per isolate, which objects may
	 * share): ~85 bytes per key and ~170 per two-word term measured in Node (docs/search.md), so a
	 * full shard is ~40 MB.
	 */
	maxKeysPerShard: 400_000,
	maxWordsPerTerm: 8,
	maxQueryLength: 100,
	maxLimit: 20,
	/** Prefixes at least this long also match with one edit when exact matches are too few. */
	fuzzyMinLength: 4,
} as const;

/** Case- and accent-insensitive form: NFKD, combining marks removed, lowercase, whitespace collapsed. */
export function normalize(text: string): string {
	return normalizeWithOffsets(text).norm;
}

/** The normalized text and, for each of its characters, the offset of the original character it came from. */
export function normalizeWithOffsets(text: string): { norm: string; from: number[] } {
	let norm = "";
	const from: number[] = [];
	let offset = 0;
	for (const char of text) {
		const piece = /\s/u.test(char) ? " " : char.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
		for (const out of piece) {
			if (out === " " && (norm === "" || norm.endsWith(" "))) continue;
			norm += out;
			from.push(offset);
		}
		offset += char.length;
	}
	if (norm.endsWith(" ")) {
		norm = norm.slice(0, -1);
		from.pop();
	}
	return { norm, from };
}

/**
 * The keys a term is found by: its normalized text from the start of each word ("new york pizza"
 * → "new york pizza", "york pizza", "pizza"), so a prefix matches the start of any word.
 */
export function wordKeys(norm: string): { key: string; at: number }[] {
	const keys = [{ key: norm, at: 0 }];
	for (let i = 1; i < norm.length && keys.length < SEARCH_LIMITS.maxWordsPerTerm; i++) {
		if (norm[i - 1] === " ") keys.push({ key: norm.slice(i), at: i });
	}
	return keys;
}

/** Ranking: the tenant's weight plus one point per selected suggestion. */
export function scoreOf(term: Pick<Term, "weight" | "popularity">): number {
	return term.weight + term.popularity;
}

/** Higher score first; equal scores by text, so results are stable. */
export function ranksBefore(a: Term, b: Term): boolean {
	const diff = scoreOf(a) - scoreOf(b);
	return diff > 0 || (diff === 0 && a.norm < b.norm);
}

/**
 * Adds a term to a top-k list kept best first (insertion into at most k entries), ignoring a term
 * already in it. Returns the same array.
 */
export function mergeTopK(top: Term[], term: Term, k: number): Term[] {
	if (top.includes(term)) return top;
	const last = top.at(-1);
	if (top.length >= k && last && !ranksBefore(term, last)) return top;
	let i = top.length;
	while (i > 0 && ranksBefore(term, top[i - 1] ?? term)) i--;
	top.splice(i, 0, term);
	if (top.length > k) top.pop();
	return top;
}

/** One-edit variants of a prefix (deletion, substitution, insertion, transposition) over `alphabet`. */
export function oneEditVariants(prefix: string, alphabet: readonly string[]): Set<string> {
	const out = new Set<string>();
	for (let i = 0; i <= prefix.length; i++) {
		const head = prefix.slice(0, i);
		const tail = prefix.slice(i);
		if (tail) out.add(head + tail.slice(1));
		for (const c of alphabet) {
			out.add(head + c + tail);
			if (tail) out.add(head + c + tail.slice(1));
		}
		if (tail.length >= 2) out.add(head + (tail[1] ?? "") + (tail[0] ?? "") + tail.slice(2));
	}
	out.delete(prefix);
	return out;
}

/** The original-text range of `length` normalized characters matched at normalized offset `at`. */
export function highlightRange(text: string, at: number, length: number): { start: number; end: number } {
	const { norm, from } = normalizeWithOffsets(text);
	const last = Math.min(at + length, norm.length) - 1;
	const start = from[at] ?? 0;
	if (last < at) return { start, end: start };
	const lastFrom = from[last] ?? start;
	const char = String.fromCodePoint(text.codePointAt(lastFrom) ?? 0);
	return { start, end: lastFrom + char.length };
}

/**
 * Merges the answers of several shards: exact matches first, then one-edit ones, each best first
 * (score, then normalized text), a term found in two shards (two of its words) once.
 */
export function mergeSuggestions(lists: readonly Suggestion[][], limit: number): Suggestion[] {
	const all = lists.flat().map((s) => ({ s, norm: normalize(s.text) }));
	all.sort(
		(a, b) =>
			Number(a.s.fuzzy) - Number(b.s.fuzzy) ||
			b.s.score - a.s.score ||
			(a.norm < b.norm ? -1 : a.norm > b.norm ? 1 : 0),
	);
	const seen = new Set<string>();
	const out: Suggestion[] = [];
	for (const { s, norm } of all) {
		if (out.length >= limit) break;
		if (seen.has(norm)) continue;
		seen.add(norm);
		out.push(s);
	}
	return out;
}
