import { describe, expect, it } from "vitest";
import type { Entry } from "../../../src/search/key-ranges";
import { existingVariants, isSorted, mergeSorted, nextChars, prefixRange } from "../../../src/search/key-ranges";

function entries(keys: string[]): Entry[] {
	return keys.sort().map((key) => ({ key, at: 0, term: { text: key, norm: key, weight: 1, popularity: 0 } }));
}

describe("key ranges", () => {
	const sorted = entries(["cab", "colorado", "cot", "oclock", "ocean"]);

	it("finds a prefix's range and the characters that follow it", () => {
		expect(prefixRange(sorted, "co")).toEqual([1, 3]);
		expect(prefixRange(sorted, "x")).toEqual([5, 5]);
		expect(nextChars(sorted, "c")).toEqual(["a", "o"]);
		expect(nextChars(sorted, "")).toEqual(["c", "o"]);
	});

	it("tries only the substitutions and insertions that exist in the keys", () => {
		const variants = existingVariants(sorted, "cilo");
		expect(variants).toContain("colo"); // substitution by a following character
		expect(variants).toContain("ilo"); // deletion of the first letter
		expect(variants).not.toContain("cxlo"); // 'x' never follows "c"
		expect(variants).not.toContain("cilo");
		for (const v of variants) expect(["c", "i"]).toContain(v[0]);
	});

	it("merges sorted arrays and tells a sorted one", () => {
		const merged = mergeSorted(entries(["a", "c", "e"]), entries(["b", "d"]));
		expect(merged.map((e) => e.key)).toEqual(["a", "b", "c", "d", "e"]);
		expect(isSorted(merged)).toBe(true);
		expect(isSorted(entries(["b", "a"]).toReversed())).toBe(false);
	});
});
