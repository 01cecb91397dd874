import { describe, expect, it } from "vitest";
import type { Term } from "../../../src/search/domain";
import { highlightRange, mergeTopK, normalize, oneEditVariants, wordKeys } from "../../../src/search/domain";

function term(norm: string, weight: number, popularity = 0): Term {
	return { text: norm, norm, weight, popularity };
}

describe("normalize", () => {
	it("folds case, accents and compatibility forms, and collapses whitespace", () => {
		expect(normalize("  Crème   BRÛLÉE ")).toBe("creme brulee");
		expect(normalize("São\tPaulo")).toBe("sao paulo");
		expect(normalize("ﬁle Ⅻ")).toBe("file xii");
		expect(normalize("e\u0301t\u00e9")).toBe("ete");
	});
});

describe("wordKeys", () => {
	it("gives one key per word start, capped at 8", () => {
		expect(wordKeys("new york pizza")).toEqual([
			{ key: "new york pizza", at: 0 },
			{ key: "york pizza", at: 4 },
			{ key: "pizza", at: 9 },
		]);
		expect(wordKeys("a b c d e f g h i j")).toHaveLength(8);
	});
});

describe("mergeTopK", () => {
	it("keeps the k best by score, ties by text, without duplicates", () => {
		const a = term("a", 5);
		const b = term("b", 5);
		const c = term("c", 9);
		const d = term("d", 1, 10);
		let top: Term[] = [];
		for (const t of [a, b, c, a, d]) top = mergeTopK(top, t, 3);
		expect(top.map((t) => t.norm)).toEqual(["d", "c", "a"]);
	});

	it("drops a term that ranks below a full list", () => {
		const top = [term("x", 3), term("y", 2)];
		expect(mergeTopK(top, term("z", 1), 2).map((t) => t.norm)).toEqual(["x", "y"]);
	});
});

describe("oneEditVariants", () => {
	it("holds deletions, substitutions, insertions and transpositions, not the prefix itself", () => {
		const variants = oneEditVariants("abc", ["a", "b", "c", "x"]);
		for (const v of ["bc", "ac", "ab", "xbc", "axc", "abx", "xabc", "abcx", "bac", "acb"])
			expect(variants.has(v), v).toBe(true);
		expect(variants.has("abc")).toBe(false);
		expect(variants.has("cab")).toBe(false);
	});
});

describe("highlightRange", () => {
	it("maps a normalized match back to the original text, accents and ligatures included", () => {
		expect(highlightRange("Crème Brûlée", 6, 3)).toEqual({ start: 6, end: 9 });
		expect(highlightRange("  New York", 4, 2)).toEqual({ start: 6, end: 8 });
		expect(highlightRange("ﬁne", 0, 2)).toEqual({ start: 0, end: 1 });
		expect(highlightRange("e\u0301te", 0, 2)).toEqual({ start: 0, end: 3 });
	});
});
