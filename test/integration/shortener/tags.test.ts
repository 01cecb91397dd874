import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import type { Link } from "./links-helpers";
import { create, mustCreate } from "./links-helpers";

type Page = { links: Link[]; next_cursor: string | null };

async function listAll(apiKey: string, query: string): Promise<string[]> {
	const seen: string[] = [];
	let cursor: string | null = null;
	do {
		const path: string = `/api/v1/links?${query}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
		const res = await call("GET", path, { token: apiKey });
		expect(res.status).toBe(200);
		const page = await res.json<Page>();
		expect(page.links.length).toBeLessThanOrEqual(2);
		seen.push(...page.links.map((l) => l.slug));
		cursor = page.next_cursor;
	} while (cursor);
	return seen;
}

describe("link tags", () => {
	it("stores up to 10 tags without repeats and answers them", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/t", tags: ["spring", "email", "spring"] });
		expect(link.tags).toEqual(["spring", "email"]);
		const read = await call("GET", `/api/v1/links/${link.slug}`, { token: apiKey });
		expect((await read.json<Link>()).tags).toEqual(["spring", "email"]);
	});

	it("refuses bad tags with 400", async () => {
		const { apiKey } = await createTenant();
		for (const tags of [["Upper"], ["a b"], [""], ["x".repeat(33)], Array.from({ length: 11 }, (_, i) => `t${i}`)]) {
			expect((await create(apiKey, { url: "https://example.com/", tags })).status, JSON.stringify(tags)).toBe(400);
		}
		expect((await call("GET", "/api/v1/links?tag=Bad!", { token: apiKey })).status).toBe(400);
	});

	it("lists only the tenant's live links with a tag, newest first, paged by cursor", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const tagged: string[] = [];
		for (let i = 0; i < 5; i++)
			tagged.push((await mustCreate(a.apiKey, { url: `https://example.com/${i}`, tags: ["launch", `n${i}`] })).slug);
		await mustCreate(a.apiKey, { url: "https://example.com/untagged" });
		const deleted = await mustCreate(a.apiKey, { url: "https://example.com/deleted", tags: ["launch"] });
		expect((await call("DELETE", `/api/v1/links/${deleted.slug}`, { token: a.apiKey })).status).toBe(200);
		const foreign = await mustCreate(b.apiKey, { url: "https://example.com/b", tags: ["launch"] });
		const seen = await listAll(a.apiKey, "tag=launch");
		expect(seen.toSorted()).toEqual(tagged.toSorted());
		expect(seen[0]).toBe(tagged[4]);
		expect(await listAll(b.apiKey, "tag=launch")).toEqual([foreign.slug]);
		expect(await listAll(a.apiKey, "tag=n3")).toEqual([tagged[3]]);
	});

	it("replaces the tags on PATCH (the old tag no longer lists the link); another tenant gets 404", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const link = await mustCreate(a.apiKey, { url: "https://example.com/p", tags: ["old"] });
		const path = `/api/v1/links/${link.slug}`;
		expect((await call("PATCH", path, { token: b.apiKey, body: { tags: ["stolen"] } })).status).toBe(404);
		const res = await call("PATCH", path, { token: a.apiKey, body: { tags: ["new", "other"] } });
		expect(res.status).toBe(200);
		expect((await res.json<Link>()).tags).toEqual(["new", "other"]);
		expect(await listAll(a.apiKey, "tag=old")).toEqual([]);
		expect(await listAll(a.apiKey, "tag=new")).toEqual([link.slug]);
		expect(await listAll(b.apiKey, "tag=stolen")).toEqual([]);
		// A PATCH without tags keeps them.
		await call("PATCH", path, { token: a.apiKey, body: { url: "https://example.com/p2" } });
		expect(await listAll(a.apiKey, "tag=other")).toEqual([link.slug]);
	});

	it("does not attach tags to another tenant's slug when a custom slug collides", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const slug = `tagged-${crypto.randomUUID().slice(0, 8)}`;
		await mustCreate(a.apiKey, { url: "https://example.com/a", slug });
		expect((await create(b.apiKey, { url: "https://example.com/b", slug, tags: ["hijack"] })).status).toBe(409);
		expect(await listAll(a.apiKey, "tag=hijack")).toEqual([]);
		expect(await listAll(b.apiKey, "tag=hijack")).toEqual([]);
	});
});
