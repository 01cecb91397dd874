import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";

type Suggestion = {
	text: string;
	weight: number;
	popularity: number;
	score: number;
	fuzzy: boolean;
	highlight: { start: number; end: number };
};
type SuggestJson = { suggestions: Suggestion[] };

function put(apiKey: string, index: string, terms: { text: string; weight: number }[]): Promise<Response> {
	return call("POST", `/api/v1/search/indexes/${index}/documents`, { token: apiKey, body: { terms } });
}

async function texts(apiKey: string, index: string, q: string, limit?: number): Promise<string[]> {
	const query = `q=${encodeURIComponent(q)}${limit === undefined ? "" : `&limit=${limit}`}`;
	const res = await call("GET", `/api/v1/search/indexes/${index}/suggest?${query}`, { token: apiKey });
	expect(res.status).toBe(200);
	return (await res.json<SuggestJson>()).suggestions.map((s) => s.text);
}

const CITIES = [
	{ text: "São Paulo", weight: 90 },
	{ text: "San Francisco", weight: 70 },
	{ text: "Santiago", weight: 80 },
	{ text: "Sapporo", weight: 20 },
	{ text: "Zürich", weight: 50 },
];

describe("search autocomplete", () => {
	it("ranks completions by weight, matching any word's start", async () => {
		const { apiKey } = await createTenant();
		expect((await put(apiKey, "cities", CITIES)).status).toBe(200);
		expect(await texts(apiKey, "cities", "sa")).toEqual(["São Paulo", "Santiago", "San Francisco", "Sapporo"]);
		expect(await texts(apiKey, "cities", "fran")).toEqual(["San Francisco"]);
	});

	it("matches regardless of case and accents, and highlights the matched original characters", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "cities", CITIES);
		expect(await texts(apiKey, "cities", "SAO P")).toEqual(["São Paulo"]);
		expect(await texts(apiKey, "cities", "zur")).toEqual(["Zürich"]);
		const res = await call("GET", "/api/v1/search/indexes/cities/suggest?q=Z%C3%9CRI", { token: apiKey });
		const [first] = (await res.json<SuggestJson>()).suggestions;
		expect(first).toMatchObject({
			text: "Zürich",
			weight: 50,
			popularity: 0,
			score: 50,
			fuzzy: false,
			highlight: { start: 0, end: 4 },
		});
	});

	it("replaces the weight of a term sent again (same normalized text), rather than adding it", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "cities", CITIES);
		const again = await put(apiKey, "cities", [{ text: "sapporo", weight: 100 }]);
		expect(await again.json()).toEqual({ index: "cities", upserted: 1, total: 5 });
		expect(await texts(apiKey, "cities", "sa", 2)).toEqual(["sapporo", "São Paulo"]);
	});

	it("caps limit at 20 and defaults to 10", async () => {
		const { apiKey } = await createTenant();
		await put(
			apiKey,
			"many",
			Array.from({ length: 30 }, (_, i) => ({ text: `item ${i}`, weight: i })),
		);
		expect(await texts(apiKey, "many", "item")).toHaveLength(10);
		expect(await texts(apiKey, "many", "item", 20)).toHaveLength(20);
		const over = await call("GET", "/api/v1/search/indexes/many/suggest?q=item&limit=21", { token: apiKey });
		expect(over.status).toBe(400);
	});

	it("removes a deleted term from suggestions, and answers 404 for an unknown one", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "cities", CITIES);
		expect(await texts(apiKey, "cities", "santi")).toEqual(["Santiago"]);
		const del = await call("DELETE", "/api/v1/search/indexes/cities/documents?text=SANTIAGO", { token: apiKey });
		expect(del.status).toBe(200);
		expect(await texts(apiKey, "cities", "santi")).toEqual([]);
		const again = await call("DELETE", "/api/v1/search/indexes/cities/documents?text=Santiago", { token: apiKey });
		expect(again.status).toBe(404);
	});

	it("ranks a selected suggestion higher (popularity), and 404s a selection of an unknown term", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "pop", [
			{ text: "apple", weight: 2 },
			{ text: "apricot", weight: 3 },
		]);
		expect(await texts(apiKey, "pop", "ap")).toEqual(["apricot", "apple"]);
		for (let i = 0; i < 2; i++) {
			const res = await call("POST", "/api/v1/search/indexes/pop/selections", {
				token: apiKey,
				body: { text: "Apple" },
			});
			expect(await res.json()).toEqual({ index: "pop", text: "Apple", popularity: i + 1 });
		}
		expect(await texts(apiKey, "pop", "ap")).toEqual(["apple", "apricot"]);
		const unknown = await call("POST", "/api/v1/search/indexes/pop/selections", {
			token: apiKey,
			body: { text: "banana" },
		});
		expect(unknown.status).toBe(404);
	});

	it("imports 10,000 terms in one call and serves them, and refuses 10,001", async () => {
		const { apiKey } = await createTenant();
		const terms = Array.from({ length: 10_000 }, (_, i) => ({
			text: `product ${String(i).padStart(5, "0")}`,
			weight: i % 997,
		}));
		const res = await put(apiKey, "catalog", terms);
		expect(await res.json()).toEqual({ index: "catalog", upserted: 10_000, total: 10_000 });
		expect(await texts(apiKey, "catalog", "product 0099", 3)).toEqual([
			"product 00996",
			"product 00995",
			"product 00994",
		]);
		const tooMany = await put(apiKey, "catalog", [...terms, { text: "one more", weight: 1 }]);
		expect(tooMany.status).toBe(400);
	});

	it("keeps tenants apart: B sees none of A's terms and cannot delete or select them", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await put(a.apiKey, "cities", CITIES);
		expect(await texts(b.apiKey, "cities", "sa")).toEqual([]);
		const del = await call("DELETE", "/api/v1/search/indexes/cities/documents?text=Sapporo", { token: b.apiKey });
		expect(del.status).toBe(404);
		const sel = await call("POST", "/api/v1/search/indexes/cities/selections", {
			token: b.apiKey,
			body: { text: "Sapporo" },
		});
		expect(sel.status).toBe(404);
		expect(await texts(a.apiKey, "cities", "sap")).toEqual(["Sapporo"]);
	});

	it("rejects a bad index name, an empty term list and an over-long term", async () => {
		const { apiKey } = await createTenant();
		expect((await put(apiKey, "Bad Name", [{ text: "x", weight: 1 }])).status).toBe(400);
		expect((await put(apiKey, "ok", [])).status).toBe(400);
		expect((await put(apiKey, "ok", [{ text: "x".repeat(101), weight: 1 }])).status).toBe(400);
		expect((await put(apiKey, "ok", [{ text: "x", weight: -1 }])).status).toBe(400);
	});
});
