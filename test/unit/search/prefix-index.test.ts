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

describe("PrefixIndex precomputed top-k", () => {
	const many = (n: number): PrefixIndex =>
		indexOf(Array.from({ length: n }, (_, i): [string, number] => [`term ${i}`, i]));

	it("raises an upserted term into a large prefix's top-k and lowers it out again", () => {
		const index = many(3000);
		index.warm();
		expect(index.listCount).toBeGreaterThan(0);
		expect(index.best("te", 2).map((t) => t.text)).toEqual(["term 2999", "term 2998"]);
		index.put({ text: "term 7", norm: "term 7", weight: 5000, popularity: 0 });
		expect(index.best("te", 2).map((t) => t.text)).toEqual(["term 7", "term 2999"]);
		index.put({ text: "term 7", norm: "term 7", weight: 7, popularity: 1 });
		expect(index.best("t", 2).map((t) => t.text)).toEqual(["term 2999", "term 2998"]);
		expect(index.best("te", 20).map((t) => t.text)).not.toContain("term 7");
		expect(index.get("term 7")).toMatchObject({ weight: 7, popularity: 1 });
	});

	it("removes a deleted term from every list, the next best taking its place", () => {
		const index = many(3000);
		index.warm();
		for (let i = 2999; i > 2960; i--) index.delete(`term ${i}`);
		expect(index.best("t", 3).map((t) => t.text)).toEqual(["term 2960", "term 2959", "term 2958"]);
		expect(index.suggest("term", 1).map((s) => s.text)).toEqual(["term 2960"]);
		index.put({ text: "term x", norm: "term x", weight: 1e6, popularity: 0 });
		expect(index.best("term", 2).map((t) => t.text)).toEqual(["term x", "term 2960"]);
	});

	it("answers like a full ranking after random upserts, score changes and deletions", () => {
		const index = new PrefixIndex();
		const live = new Map<string, number>();
		let seed = 7;
		const next = (n: number) => {
			seed = (seed * 1103515245 + 12345) % 2147483648;
			return seed % n;
		};
		const word = () => `${"abc"[next(3)]}${"abcd"[next(4)]}${"ab"[next(2)]}${next(50)}`;
		for (let round = 0; round < 6; round++) {
			for (let i = 0; i < 400; i++) {
				const text = `${word()} ${word()}`;
				const weight = next(40);
				index.put({ text, norm: text, weight, popularity: 0 });
				live.set(text, weight);
			}
			for (const text of [...live.keys()].slice(0, 60)) {
				index.delete(text);
				live.delete(text);
			}
			if (round === 0) index.warm();
			for (const prefix of ["a", "ab", "b", "ca", "abb", "c"]) {
				const expected = [...live]
					.filter(([text]) => text.startsWith(prefix) || text.includes(` ${prefix}`))
					.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
					.slice(0, 20)
					.map(([text]) => text);
				expect(index.best(prefix, 20).map((t) => t.text)).toEqual(expected);
			}
		}
	});
});
