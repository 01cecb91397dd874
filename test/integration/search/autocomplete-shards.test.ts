import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AutocompleteShard } from "../../../durable-objects/search-autocomplete-shard";
import { shardOfKey } from "../../../src/search/shards";
import { call, createTenant } from "../helpers";

type SuggestJson = { suggestions: { text: string; popularity: number; fuzzy: boolean }[] };
type StatsJson = { terms: number; shards: { shard: number; terms: number; keys: number }[] };

function put(apiKey: string, index: string, terms: { text: string; weight: number }[]): Promise<Response> {
	return call("POST", `/api/v1/search/indexes/${index}/documents`, { token: apiKey, body: { terms } });
}

async function ask(apiKey: string, index: string, q: string): Promise<{ json: SuggestJson; cache: string | null }> {
	const res = await call("GET", `/api/v1/search/indexes/${index}/suggest?q=${encodeURIComponent(q)}`, {
		token: apiKey,
	});
	expect(res.status).toBe(200);
	return { json: await res.json<SuggestJson>(), cache: res.headers.get("X-Suggest-Cache") };
}

async function texts(apiKey: string, index: string, q: string): Promise<string[]> {
	return (await ask(apiKey, index, q)).json.suggestions.map((s) => s.text);
}

const letter = (n: number) => String.fromCharCode(97 + (n % 26));

describe("search autocomplete across shards", () => {
	it("spreads 10,000 terms of one call over every shard, and counts each term once", async () => {
		const { apiKey } = await createTenant();
		const terms = Array.from({ length: 10_000 }, (_, i) => ({
			text: `${letter(i)}${letter(Math.floor(i / 26))}word ${String(i).padStart(5, "0")}`,
			weight: i,
		}));
		expect(await (await put(apiKey, "spread", terms)).json()).toEqual({
			index: "spread",
			upserted: 10_000,
			total: 10_000,
		});
		const stats = await (await call("GET", "/api/v1/search/indexes/spread", { token: apiKey })).json<StatsJson>();
		expect(stats.terms).toBe(10_000);
		expect(stats.shards).toHaveLength(16);
		for (const shard of stats.shards) expect(shard.terms).toBeGreaterThan(0);
		expect(stats.shards.reduce((n, s) => n + s.keys, 0)).toBe(20_000);
		const zz = terms.filter((t) => t.text.startsWith("zz")).sort((x, y) => y.weight - x.weight);
		expect(await texts(apiKey, "spread", "zz")).toEqual(zz.slice(0, 10).map((t) => t.text));
		const exact = (await ask(apiKey, "spread", "09998")).json.suggestions.filter((x) => !x.fuzzy);
		expect(exact.map((x) => x.text)).toEqual([terms[9998]?.text]);
	});

	it("merges a 1-character prefix held by two shards by score", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "c", [
			{ text: "cab", weight: 5 },
			{ text: "cot", weight: 9 },
			{ text: "czar", weight: 7 },
			{ text: "Big Cat", weight: 6 },
		]);
		expect(await texts(apiKey, "c", "c")).toEqual(["cot", "czar", "Big Cat", "cab"]);
		expect(await texts(apiKey, "c", "co")).toEqual(["cot"]);
	});

	it("corrects a typo in the shard key (second letter, swapped or extra first letter), not a wrong first letter", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "states", [{ text: "Colorado", weight: 1 }]);
		for (const q of ["cilorado", "oclo", "xcolo"]) {
			const { json } = await ask(apiKey, "states", q);
			expect(json.suggestions.map((s) => [s.text, s.fuzzy])).toEqual([["Colorado", true]]);
		}
		expect(await texts(apiKey, "states", "bolo")).toEqual([]);
	});

	it("asks other shards for typo matches only when the query matched nothing as typed", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "states", [
			{ text: "Colorado", weight: 9 },
			{ text: "Oclock Bay", weight: 1 },
		]);
		const { json } = await ask(apiKey, "states", "oclo");
		expect(json.suggestions.map((s) => [s.text, s.fuzzy])).toEqual([["Oclock Bay", false]]);
		expect(await texts(apiKey, "states", "ocol")).toEqual(["Colorado", "Oclock Bay"]);
	});

	it("selects and deletes a term in every shard holding one of its words", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "cities", [{ text: "New York", weight: 3 }]);
		const sel = await call("POST", "/api/v1/search/indexes/cities/selections", {
			token: apiKey,
			body: { text: "new york" },
		});
		expect(await sel.json()).toEqual({ index: "cities", text: "new york", popularity: 1 });
		expect((await ask(apiKey, "cities", "york")).json.suggestions[0]?.popularity).toBe(1);
		expect((await ask(apiKey, "cities", "new y")).json.suggestions[0]?.popularity).toBe(1);
		const del = await call("DELETE", "/api/v1/search/indexes/cities/documents?text=New%20York", { token: apiKey });
		expect(del.status).toBe(200);
		expect(await texts(apiKey, "cities", "york")).toEqual([]);
		expect(await texts(apiKey, "cities", "new y")).toEqual([]);
	});

	it("caches short prefixes at the edge: stale for up to 10 s after an import, purged by a selection", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "edge", [{ text: "abacus", weight: 1 }]);
		expect(await ask(apiKey, "edge", "ab")).toMatchObject({ cache: "miss" });
		expect(await ask(apiKey, "edge", "AB")).toMatchObject({ cache: "isolate" });
		await put(apiKey, "edge", [{ text: "abbey", weight: 5 }]);
		const stale = await ask(apiKey, "edge", "ab");
		expect(stale.cache).toBe("edge");
		expect(stale.json.suggestions.map((s) => s.text)).toEqual(["abacus"]);
		expect(await texts(apiKey, "edge", "abbe")).toEqual(["abbey"]);
		await call("POST", "/api/v1/search/indexes/edge/selections", { token: apiKey, body: { text: "abacus" } });
		const fresh = await ask(apiKey, "edge", "ab");
		expect(fresh.cache).toBe("miss");
		expect(fresh.json.suggestions.map((s) => s.text)).toEqual(["abbey", "abacus"]);
	});

	it("deletes a whole index across its shards; another tenant can neither see nor delete it", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await put(a.apiKey, "docs", [
			{ text: "alpha beta", weight: 1 },
			{ text: "zeta", weight: 2 },
		]);
		expect((await call("GET", "/api/v1/search/indexes/docs", { token: b.apiKey })).status).toBe(404);
		expect((await call("DELETE", "/api/v1/search/indexes/docs", { token: b.apiKey })).status).toBe(404);
		const stats = await (await call("GET", "/api/v1/search/indexes/docs", { token: a.apiKey })).json<StatsJson>();
		expect(stats.terms).toBe(2);
		const del = await call("DELETE", "/api/v1/search/indexes/docs", { token: a.apiKey });
		expect(await del.json()).toEqual({ index: "docs", deleted: true, terms: 2 });
		expect(await texts(a.apiKey, "docs", "beta")).toEqual([]);
		expect((await call("GET", "/api/v1/search/indexes/docs", { token: a.apiKey })).status).toBe(404);
		expect((await call("DELETE", "/api/v1/search/indexes/docs", { token: a.apiKey })).status).toBe(404);
		expect((await put(a.apiKey, "docs", [{ text: "zeta", weight: 2 }])).status).toBe(200);
		expect(await texts(a.apiKey, "docs", "zeta")).toEqual(["zeta"]);
	});
});

describe("an autocomplete shard waking up", () => {
	it("rebuilds from its SQLite only the word keys of its own shard, and stores nothing for reads", async () => {
		const york = shardOfKey("york");
		const stub = env.AUTOCOMPLETE.getByName(`wake:test#${york}`);
		expect(await stub.stats(york)).toEqual({ homeTerms: 0, keys: 0 });
		await runInDurableObject(stub, async (_o, state) => {
			expect(state.storage.sql.exec("SELECT shard FROM shard_meta").toArray()).toEqual([]);
		});
		await stub.upsert(york, [
			{ norm: "new york", text: "New York", weight: 2 },
			{ norm: "yale", text: "Yale", weight: 1 },
		]);
		await runInDurableObject(stub, async (_o, state) => {
			const woken = new AutocompleteShard(state, env);
			await state.blockConcurrencyWhile(async () => {}); // the constructor's load has run
			expect(await woken.stats(york)).toEqual({ homeTerms: 1, keys: 2 });
			expect((await woken.suggest(york, "y", 5)).map((s) => s.text)).toEqual(["New York", "Yale"]);
			expect(await woken.suggest(york, "new", 5)).toEqual([]);
			await expect(woken.stats(york + 1)).rejects.toThrow(/called as shard/);
		});
	});
});

describe("an autocomplete shard's stored prefix rows", () => {
	it("keeps each short prefix's best terms in SQLite, rewritten after a selection and a deletion", async () => {
		const york = shardOfKey("york");
		const stub = env.AUTOCOMPLETE.getByName(`rows:test#${york}`);
		await stub.upsert(york, [
			{ norm: "new york", text: "New York", weight: 2 },
			{ norm: "yale", text: "Yale", weight: 3 },
		]);
		const rowOf = (prefix: string) =>
			runInDurableObject(stub, async (_o, state) => ({
				terms: state.storage.sql
					.exec<{ terms: string }>("SELECT terms FROM prefix_top WHERE prefix = ?", prefix)
					.toArray()[0]?.terms,
				complete: state.storage.sql.exec<{ complete: number }>("SELECT complete FROM prefix_state").toArray()[0]
					?.complete,
			}));
		expect((await rowOf("y")).complete).not.toBe(1);
		expect(await stub.settle(york)).toEqual({ rows: 5, written: 5 }); // y, ya, yal, yo, yor
		expect(await rowOf("y")).toEqual({ terms: '[["yale","Yale",3,0],["new york","New York",2,0]]', complete: 1 });
		await stub.select(york, "new york");
		await stub.select(york, "new york");
		expect((await rowOf("y")).complete).toBe(0);
		expect(await stub.settle(york)).toEqual({ rows: 5, written: 3 });
		expect((await rowOf("y")).terms).toBe('[["new york","New York",2,2],["yale","Yale",3,0]]');
		await stub.remove(york, "yale");
		expect(await stub.settle(york)).toEqual({ rows: 3, written: 3 }); // "y" rewritten, "ya" and "yal" gone
		expect(await rowOf("ya")).toEqual({ terms: undefined, complete: 1 });
	});

	it("answers a short prefix from its row while a woken shard loads, then every prefix from memory", async () => {
		const york = shardOfKey("york");
		const stub = env.AUTOCOMPLETE.getByName(`cold:test#${york}`);
		await stub.upsert(york, [
			{ norm: "new york", text: "New York", weight: 2 },
			{ norm: "yale", text: "Yale", weight: 3 },
		]);
		await stub.settle(york);
		await runInDurableObject(stub, async (_o, state) => {
			// The terms table emptied behind the rows' back: only the rows can answer "y" right away.
			state.storage.sql.exec("DELETE FROM terms");
			const woken = new AutocompleteShard(state, env);
			await state.blockConcurrencyWhile(async () => {}); // the constructor has run; the load starts at the first call
			const cold = await woken.suggest(york, "Y", 5);
			expect(cold.map((s) => [s.text, s.highlight])).toEqual([
				["Yale", { start: 0, end: 1 }],
				["New York", { start: 4, end: 5 }],
			]);
			expect(await woken.suggest(york, "york", 5)).toEqual([]); // longer: waits for the load
			expect(await woken.stats(york)).toEqual({ homeTerms: 0, keys: 0 });
			expect(await woken.suggest(york, "y", 5)).toEqual([]);
		});
	});
});
