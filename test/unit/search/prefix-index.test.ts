import { describe, expect, it } from "vitest";
import { normalize } from "../../../src/search/domain";
import { PrefixIndex } from "../../../src/search/prefix-index";

function indexOf(terms: [string, number][]): PrefixIndex {
	const index = new PrefixIndex();
	for (const [text, weight] of terms) index.put({ text, norm: normalize(text), weight, popularity: 0 });
	return index;
}

describe("PrefixIndex", () => {
	it("ranks word-prefix matches by weight", () => {
		const index = indexOf([
			["New York", 50],
			["Newark", 80],
			["Newcastle", 10],
			["York", 99],
			["New Delhi", 60],
		]);
		expect(index.suggest("new", 10).map((s) => s.text)).toEqual(["Newark", "New Delhi", "New York", "Newcastle"]);
		expect(index.suggest("yor", 10).map((s) => s.text)).toEqual(["York", "New York"]);
		expect(index.suggest("yor", 10)[1]?.highlight).toEqual({ start: 4, end: 7 });
	});

	it("ranks by weight across more keys than a scan covers (the memoized path), and updates after a write", () => {
		const terms: [string, number][] = Array.from({ length: 3000 }, (_, i) => [`term ${i}`, i]);
		const index = indexOf(terms);
		expect(index.suggest("t", 3).map((s) => s.text)).toEqual(["term 2999", "term 2998", "term 2997"]);
		index.put({ text: "term 5", norm: "term 5", weight: 10_000, popularity: 0 });
		expect(index.suggest("t", 2).map((s) => s.text)).toEqual(["term 5", "term 2999"]);
		index.delete("term 5");
		expect(index.suggest("te", 1).map((s) => s.text)).toEqual(["term 2999"]);
	});

	it("falls back to one-edit matches for prefixes of 4+ characters, after the exact ones", () => {
		const index = indexOf([
			["Pizza Margherita", 10],
			["Pizzeria", 5],
		]);
		expect(index.suggest("piza", 10).map((s) => [s.text, s.fuzzy])).toEqual([
			["Pizza Margherita", true],
			["Pizzeria", true],
		]);
		expect(index.suggest("pzz", 10)).toEqual([]);
		expect(index.suggest("pizze", 10).map((s) => [s.text, s.fuzzy])).toEqual([
			["Pizzeria", false],
			["Pizza Margherita", true],
		]);
	});

	it("answers nothing for an empty or blank query", () => {
		const index = indexOf([["a", 1]]);
		expect(index.suggest("", 5)).toEqual([]);
		expect(index.suggest("   ", 5)).toEqual([]);
	});
});

describe("PrefixIndex of one shard", () => {
	it("serves only the word keys it owns, and counts them", () => {
		const index = new PrefixIndex((key) => key.startsWith("y"));
		index.put({ text: "New York", norm: "new york", weight: 1, popularity: 0 });
		index.put({ text: "Yale", norm: "yale", weight: 2, popularity: 0 });
		expect(index.keyCount).toBe(2);
		expect(index.suggest("y", 10).map((s) => s.text)).toEqual(["Yale", "New York"]);
		expect(index.suggest("new", 10)).toEqual([]);
		index.delete("new york");
		expect(index.keyCount).toBe(1);
	});

	it("corrects typos that keep the first or second letter first, not a wrong first letter", () => {
		const index = indexOf([["Colorado", 1]]);
		expect(index.suggest("oclo", 5).map((s) => [s.text, s.fuzzy])).toEqual([["Colorado", true]]);
		expect(index.suggest("xcolo", 5).map((s) => s.text)).toEqual(["Colorado"]);
		expect(index.suggest("cilo", 5).map((s) => s.text)).toEqual(["Colorado"]);
		expect(index.suggest("bolo", 5)).toEqual([]);
	});
});
