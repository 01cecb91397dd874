import { describe, expect, it } from "vitest";
import { SEARCH_LIMITS, mergeSuggestions, oneEditVariants, wordKeys } from "../../../src/search/domain";
import type { Suggestion } from "../../../src/search/domain";
import {
	SHARD_COUNT,
	fuzzyShards,
	overCap,
	shardOfKey,
	shardsForPrefix,
	shardsOfTerm,
} from "../../../src/search/shards";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz".split("");
const KEYS = ["apple", "0day", "banana", "cab", "cot", "czar", "sofa", "snow", "zulu", "ünï", "été", "東京", "-x", "s"];

function suggestion(text: string, score: number, fuzzy = false): Suggestion {
	return { text, weight: score, popularity: 0, score, highlight: { start: 0, end: 1 }, fuzzy };
}

describe("autocomplete shards", () => {
	it("puts every key in the shards its prefixes are asked in: one for 2+ characters, at most two for one", () => {
		for (const key of KEYS) {
			const shard = shardOfKey(key);
			expect(shard).toBeGreaterThanOrEqual(0);
			expect(shard).toBeLessThan(SHARD_COUNT);
			for (let n = 1; n <= key.length; n++) {
				const asked = shardsForPrefix(key.slice(0, n));
				expect(asked).toContain(shard);
				if (n >= 2) expect(asked).toEqual([shard]);
			}
		}
		for (const c of "abcdefghijklmnopqrstuvwxyz0123456789") expect(shardsForPrefix(c).length).toBeLessThanOrEqual(2);
		expect(shardsForPrefix("c")).toEqual([shardOfKey("ca"), shardOfKey("co")]);
		expect(shardOfKey("ca")).not.toBe(shardOfKey("co"));
	});

	it("spreads English word starts over every shard", () => {
		const used = new Set(ALPHABET.flatMap((c) => [shardOfKey(`${c}a`), shardOfKey(`${c}z`)]));
		expect(used.size).toBe(SHARD_COUNT);
	});

	it("stores a term in the shards of its words, its home being the shard of its full text", () => {
		const { home, all } = shardsOfTerm("new york");
		expect(home).toBe(shardOfKey("new york"));
		const byNumber = (a: number, b: number) => a - b;
		expect(all.sort(byNumber)).toEqual([shardOfKey("new"), shardOfKey("york")].sort(byNumber));
	});

	it("asks at most four shards for typos, covering every variant that keeps the first or second letter first", () => {
		for (const prefix of ["colo", "oclo", "cilo", "xcolo", "東京タワ"]) {
			const asked = fuzzyShards(prefix);
			expect(asked.length).toBeLessThanOrEqual(4);
			for (const v of oneEditVariants(prefix, ALPHABET)) {
				if (v[0] !== prefix[0] && v[0] !== prefix[1]) continue;
				for (const s of shardsForPrefix(v)) expect(asked).toContain(s);
			}
		}
		expect(fuzzyShards("oclo")).toContain(shardOfKey("colo"));
	});

	it("merges shard answers: exact before fuzzy, by score, a term found twice once", () => {
		const merged = mergeSuggestions(
			[
				[suggestion("Cab", 5), suggestion("New York", 3)],
				[suggestion("cot", 9), suggestion("new york", 3), suggestion("coat", 50, true)],
			],
			10,
		);
		expect(merged.map((s) => s.text)).toEqual(["cot", "Cab", "New York", "coat"]);
		expect(mergeSuggestions([[suggestion("a", 1)], [suggestion("b", 2)]], 1).map((s) => s.text)).toEqual(["b"]);
	});

	it("refuses a write over the index's terms or one shard's keys", () => {
		const empty = { homeTerms: 0, keys: 0, newHome: 0, newKeys: 0 };
		const plans = Array.from({ length: SHARD_COUNT }, () => ({ ...empty }));
		expect(overCap(plans)).toBeNull();
		plans[3] = { homeTerms: SEARCH_LIMITS.maxTermsPerIndex, keys: 0, newHome: 0, newKeys: 0 };
		expect(overCap(plans)).toBeNull();
		plans[4] = { ...empty, newHome: 1 };
		expect(overCap(plans)).toEqual({ total: SEARCH_LIMITS.maxTermsPerIndex });
		plans[3] = { ...empty, keys: SEARCH_LIMITS.maxKeysPerShard, newKeys: 1 };
		expect(overCap(plans)).toEqual({ total: 0, shard: 3 });
	});

	it("has a word key for each of up to 8 words", () => {
		expect(wordKeys("a b c d e f g h i j")).toHaveLength(SEARCH_LIMITS.maxWordsPerTerm);
	});
});
