import { SEARCH_LIMITS, wordKeys } from "./domain";

/**
 * Which AutocompleteShard object of an index holds a word key. Keys starting with 0-9 or a-z are
 * placed by a fixed table of ranges over their first two characters, sized from the first-letter
 * frequencies of English words (each shard ~4–9% of word starts), so a prefix of 2+ characters
 * lives in exactly one shard and a 1-character prefix in one or two. Keys starting with another
 * character (other scripts, punctuation) go to the shard of their first code point modulo the
 * count, so every prefix of them is one shard too. Pure; changing the table re-homes stored terms,
 * so it is fixed.
 */

/** Shard i holds the [0-9a-z] keys from SHARD_BOUNDS[i] (inclusive) to SHARD_BOUNDS[i + 1]. */
export const SHARD_BOUNDS = [
	"", // digits and a
	"b",
	"c", // ca–cn
	"co", // co–cz
	"d",
	"e", // e, f
	"g", // g, h
	"i", // i–l
	"m",
	"n", // n, o
	"p", // p, q
	"r",
	"s", // sa–sn
	"so", // so–sz
	"t", // t, u
	"v", // v–z
] as const;
export const SHARD_COUNT = SHARD_BOUNDS.length;

const TABLE_CHAR = /^[0-9a-z]/;

/** The shard of one normalized word key. */
export function shardOfKey(key: string): number {
	if (!TABLE_CHAR.test(key)) return (key.codePointAt(0) ?? 0) % SHARD_COUNT;
	let shard = 0;
	for (let i = 1; i < SHARD_COUNT; i++) if ((SHARD_BOUNDS[i] ?? "") <= key) shard = i;
	return shard;
}

/** The shards holding every key that starts with a normalized prefix: one, or two for some 1-character prefixes. */
export function shardsForPrefix(prefix: string): number[] {
	const first = shardOfKey(prefix);
	if (prefix.length >= 2 || !TABLE_CHAR.test(prefix)) return [first];
	const last = shardOfKey(`${prefix}\uffff`);
	return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The shards a term is stored in: those of its word keys (its full text is its home, counted once). */
export function shardsOfTerm(norm: string): { home: number; all: number[] } {
	const all = new Set(wordKeys(norm).map(({ key }) => shardOfKey(key)));
	return { home: shardOfKey(norm), all: [...all] };
}

/**
 * The shards to ask for one-edit matches of a prefix: one edit may change its first two characters,
 * so the shard key. Typo tolerance keeps variants that start with the prefix's first or second
 * character (every edit after the first letter, an extra first letter, the first two swapped), so
 * at most the shards of two 1-character prefixes: four.
 */
export function fuzzyShards(prefix: string): number[] {
	const shards = new Set(shardsForPrefix(prefix.slice(0, 1)));
	for (const s of shardsForPrefix(prefix.slice(1, 2))) shards.add(s);
	return [...shards];
}

/**
 * The cap a write would pass, from every shard's plan (index position = shard): the index's terms
 * (each counted in its home shard) or one shard's word keys; null when within both.
 */
export function overCap(
	plans: readonly { homeTerms: number; keys: number; newHome: number; newKeys: number }[],
): { total: number; shard?: number } | null {
	const total = plans.reduce((n, p) => n + p.homeTerms, 0);
	if (total + plans.reduce((n, p) => n + p.newHome, 0) > SEARCH_LIMITS.maxTermsPerIndex) return { total };
	const shard = plans.findIndex((p) => p.keys + p.newKeys > SEARCH_LIMITS.maxKeysPerShard);
	return shard >= 0 ? { total, shard } : null;
}
