import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";

type SuggestJson = { index: string; q: string; suggestions: { text: string; popularity: number }[] };

function put(apiKey: string, index: string, terms: { text: string; weight: number }[]): Promise<Response> {
	return call("POST", `/api/v1/search/indexes/${index}/documents`, { token: apiKey, body: { terms } });
}

async function ask(
	apiKey: string,
	index: string,
	q: string,
): Promise<{ texts: string[]; json: SuggestJson; cache: string | null; timing: string | null }> {
	const res = await call("GET", `/api/v1/search/indexes/${index}/suggest?q=${encodeURIComponent(q)}`, {
		token: apiKey,
	});
	expect(res.status).toBe(200);
	const json = await res.json<SuggestJson>();
	return {
		texts: json.suggestions.map((s) => s.text),
		json,
		cache: res.headers.get("X-Suggest-Cache"),
		timing: res.headers.get("Server-Timing"),
	};
}

describe("the isolate's suggest cache", () => {
	it("serves a repeated long prefix from the isolate, and an import through this isolate shows at once", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "cities", [{ text: "Sapporo", weight: 20 }]);
		expect(await ask(apiKey, "cities", "sapp")).toMatchObject({ cache: "miss", texts: ["Sapporo"] });
		const hit = await ask(apiKey, "cities", "SAPP");
		expect(hit).toMatchObject({ cache: "isolate", texts: ["Sapporo"] });
		expect(hit.json.q).toBe("SAPP");
		await put(apiKey, "cities", [{ text: "Sapphire Coast", weight: 90 }]);
		expect(await ask(apiKey, "cities", "sapp")).toMatchObject({ cache: "miss", texts: ["Sapphire Coast", "Sapporo"] });
		expect(await ask(apiKey, "cities", "sapp")).toMatchObject({
			cache: "isolate",
			texts: ["Sapphire Coast", "Sapporo"],
		});
	});

	it("shows a selection and a deletion through this isolate on the next ask, short prefixes included", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "picks", [
			{ text: "kamon alpha", weight: 5 },
			{ text: "kamon beta", weight: 5 },
		]);
		for (const q of ["kamo", "kamo", "ka", "ka"]) await ask(apiKey, "picks", q);
		expect((await ask(apiKey, "picks", "kamo")).cache).toBe("isolate");
		await call("POST", "/api/v1/search/indexes/picks/selections", { token: apiKey, body: { text: "kamon beta" } });
		const picked = await ask(apiKey, "picks", "kamo");
		expect(picked.texts).toEqual(["kamon beta", "kamon alpha"]);
		expect(picked.json.suggestions[0]?.popularity).toBe(1);
		expect((await ask(apiKey, "picks", "ka")).texts).toEqual(["kamon beta", "kamon alpha"]);
		await call("DELETE", "/api/v1/search/indexes/picks/documents?text=kamon%20beta", { token: apiKey });
		expect((await ask(apiKey, "picks", "kamo")).texts).toEqual(["kamon alpha"]);
		expect((await ask(apiKey, "picks", "ka")).texts).toEqual(["kamon alpha"]);
	});

	it("never answers a tenant from another tenant's entry for the same index name and query", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await put(a.apiKey, "cities", [{ text: "Zürich", weight: 50 }]);
		await put(b.apiKey, "cities", [{ text: "Zurbarán", weight: 10 }]);
		for (const q of ["zuri", "zuri", "zu", "zu"]) await ask(a.apiKey, "cities", q);
		expect(await ask(a.apiKey, "cities", "zu")).toMatchObject({ cache: "isolate", texts: ["Zürich"] });
		expect(await ask(a.apiKey, "cities", "zuri")).toMatchObject({ cache: "isolate", texts: ["Zürich"] });
		expect(await ask(b.apiKey, "cities", "zu")).toMatchObject({ cache: "miss", texts: ["Zurbarán"] });
		const long = await ask(b.apiKey, "cities", "zuri");
		expect(long.cache).toBe("miss");
		expect(long.texts).not.toContain("Zürich");
	});

	it("says the server's own time in Server-Timing", async () => {
		const { apiKey } = await createTenant();
		await put(apiKey, "timed", [{ text: "alpha", weight: 1 }]);
		expect((await ask(apiKey, "timed", "alp")).timing).toMatch(/^total;dur=\d+(\.\d)?$/);
		const refused = await call("GET", "/api/v1/search/indexes/timed/suggest?q=a&limit=99", { token: apiKey });
		expect(refused.status).toBe(400);
		expect(refused.headers.get("Server-Timing")).toMatch(/^total;dur=/);
	});
});
