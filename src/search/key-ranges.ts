import type { Term } from "./domain";
import { mergeTopK } from "./domain";

/**
 * Pure helpers over a shard's sorted word-key array: prefix ranges by binary search, ranking a
 * small range by a scan, and the one-edit variants of a prefix that exist in the keys (walking the
 * key "trie" implied by the sorted order, so only characters that follow a prefix are tried).
 */

export type Entry = { key: string; at: number; term: Term };

/** First index in [lo, hi) whose key is >= target. */
export function lowerBound(entries: readonly Entry[], target: string, lo = 0, hi = entries.length): number {
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if ((entries[mid]?.key ?? "") < target) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** [lo, hi) of the entries whose key starts with `prefix`, searched within [from, to). */
export function prefixRange(
	entries: readonly Entry[],
	prefix: string,
	from = 0,
	to = entries.length,
): [number, number] {
	const lo = lowerBound(entries, prefix, from, to);
	return [lo, lowerBound(entries, `${prefix}\uffff`, lo, to)];
}

/** The best k distinct terms among entries[lo, hi), best first. */
export function rankRange(entries: readonly Entry[], lo: number, hi: number, k: number): Term[] {
	let top: Term[] = [];
	for (let i = lo; i < hi; i++) {
		const entry = entries[i];
		if (entry) top = mergeTopK(top, entry.term, k);
	}
	return top;
}

/** Compares two entries by key (code units), for sorting. */
export function byKey(a: Entry, b: Entry): number {
	return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Whether entries are in key order. */
export function isSorted(entries: readonly Entry[]): boolean {
	for (let i = 1; i < entries.length; i++) if ((entries[i]?.key ?? "") < (entries[i - 1]?.key ?? "")) return false;
	return true;
}

/** Merges two key-sorted arrays into one (equal keys: `a`'s first). */
export function mergeSorted(a: readonly Entry[], b: readonly Entry[]): Entry[] {
	const out: Entry[] = [];
	let i = 0;
	let j = 0;
	for (;;) {
		const x = a[i];
		const y = b[j];
		if (!x || !y) break;
		if (y.key < x.key) {
			out.push(y);
			j++;
		} else {
			out.push(x);
			i++;
		}
	}
	for (let x = a[i]; x; x = a[++i]) out.push(x);
	for (let y = b[j]; y; y = b[++j]) out.push(y);
	return out;
}

/** The distinct characters (code units) that follow `prefix` in the keys, found by jumping over each child's range. */
export function nextChars(entries: readonly Entry[], prefix: string): string[] {
	const [lo, hi] = prefixRange(entries, prefix);
	const out: string[] = [];
	let i = lo;
	while (i < hi && (entries[i]?.key.length ?? 0) === prefix.length) i++;
	while (i < hi) {
		const c = entries[i]?.key[prefix.length] ?? "";
		out.push(c);
		i = lowerBound(entries, `${prefix}${c}\uffff`, i, hi);
	}
	return out;
}

/**
 * One-edit variants of a prefix (deletion, transposition, substitution, insertion) that start with
 * its first or second character (the typo rule every shard shares, shards.ts fuzzyShards), with
 * substituted or inserted characters taken only from those that follow the same head in the keys,
 * so a variant that cannot match is rarely produced. Unordered, without the prefix itself.
 */
export function existingVariants(entries: readonly Entry[], prefix: string): Set<string> {
	const out = new Set<string>();
	const first = prefix[0] ?? "";
	const second = prefix[1] ?? "";
	for (let i = 0; i < prefix.length; i++) {
		out.add(prefix.slice(0, i) + prefix.slice(i + 1));
		if (i + 1 < prefix.length) out.add(prefix.slice(0, i) + swapAt(prefix, i));
	}
	// Substitution and insertion at 0 may only put the second (or first) character first.
	out.add(second + prefix.slice(1));
	out.add(first + prefix);
	out.add(second + prefix);
	for (let i = 1; i <= prefix.length; i++) {
		const head = prefix.slice(0, i);
		const tail = prefix.slice(i);
		for (const c of nextChars(entries, head)) {
			out.add(head + c + tail);
			if (tail) out.add(head + c + tail.slice(1));
		}
	}
	out.delete(prefix);
	return out;
}

function swapAt(prefix: string, i: number): string {
	return (prefix[i + 1] ?? "") + (prefix[i] ?? "") + prefix.slice(i + 2);
}
