import { describe, expect, it } from "vitest";
import type { Term } from "../../../src/search/domain";
import type { Suggestion } from "../../../src/search/domain";
import {
	highlightRange,
	mergeSuggestions,
	mergeTopK,
	normalize,
	oneEditVariants,
	shardOf,
	wordKeys,
} from "../../../src/search/domain";

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

function suggestion(text: string, score: number, fuzzy = false): Suggestion {
	return { text, weight: score, popularity: 0, score, highlight: { start: 0, end: 1 }, fuzzy };
}

describe("shards", () => {
	it("places a term on one shard, the same every time, and spreads many terms over all shards", () => {
		expect(shardOf("sao paulo", 5)).toBe(shardOf("sao paulo", 5));
		const counts = [0, 0, 0, 0, 0];
		for (let i = 0; i < 10_000; i++) counts[shardOf(`term ${i}`, 5)] = (counts[shardOf(`term ${i}`, 5)] ?? 0) + 1;
		for (const n of counts) expect(n).toBeGreaterThan(1800);
	});

	it("merges shard answers: exact before fuzzy, then by score, then by text, cut to the limit", () => {
		const merged = mergeSuggestions(
			[[suggestion("b", 5), suggestion("zz", 99, true)], [suggestion("a", 5), suggestion("c", 9)], []],
			3,
		);
		expect(merged.map((s) => s.text)).toEqual(["c", "a", "b"]);
		expect(mergeSuggestions([[suggestion("x", 1)], [suggestion("y", 50, true)]], 5).map((s) => s.text)).toEqual([
			"x",
			"y",
		]);
	});
});
