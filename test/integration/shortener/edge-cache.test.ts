import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeKey } from "../../../src/shortener/edge-cache";
import { call, createTenant, sleep } from "../helpers";
import { mustCreate, uniqueSlug, visit } from "./links-helpers";

async function waitForEdgeEntry(slug: string): Promise<Response | undefined> {
	for (let waited = 0; waited < 2000; waited += 50) {
		const hit = await caches.default.match(edgeKey(slug));
		if (hit) return hit;
		await sleep(50);
	}
	return undefined;
}

describe("the edge cache of hot links", () => {
	it("keeps a resolved link in caches.default, so the next redirect does not read D1", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/v1" });
		expect((await visit(link.slug)).headers.get("Location")).toBe("https://example.com/v1");
		const entry = await waitForEdgeEntry(link.slug);
		expect(entry?.headers.get("Cache-Control")).toBe("public, max-age=30");
		// Changed behind the API's back: a redirect that read D1 would see it.
		await env.DB.prepare("UPDATE links SET url = ? WHERE slug = ?")
			.bind("https://example.com/changed", link.slug)
			.run();
		expect((await visit(link.slug)).headers.get("Location")).toBe("https://example.com/v1");
		// Through the API: the entry goes, the next redirect reads the new destination.
		const res = await call("PATCH", `/api/v1/links/${link.slug}`, {
			token: apiKey,
			body: { url: "https://example.com/v2" },
		});
		expect(res.status).toBe(200);
		expect(await caches.default.match(edgeKey(link.slug))).toBeUndefined();
		expect((await visit(link.slug)).headers.get("Location")).toBe("https://example.com/v2");
	});

	it("serves a slug from the edge entry alone (no D1 row) and drops the entry on DELETE", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ghost = uniqueSlug("edge-only");
		const row = {
			slug: ghost,
			tenant_id: tenantId,
			url: "https://example.com/from-edge",
			permanent: 0,
			expires_at: null,
			max_clicks: null,
			clicks: 0,
			created_at: Date.now(),
			deleted_at: null,
			password_hash: null,
			tags: "[]",
		};
		const headers = { "Content-Type": "application/json", "Cache-Control": "public, max-age=30" };
		await caches.default.put(edgeKey(ghost), new Response(JSON.stringify(row), { headers }));
		expect((await visit(ghost)).headers.get("Location")).toBe("https://example.com/from-edge");

		const link = await mustCreate(apiKey, { url: "https://example.com/del" });
		expect((await visit(link.slug)).status).toBe(302);
		expect(await waitForEdgeEntry(link.slug)).toBeDefined();
		expect((await call("DELETE", `/api/v1/links/${link.slug}`, { token: apiKey })).status).toBe(200);
		expect(await caches.default.match(edgeKey(link.slug))).toBeUndefined();
		expect((await visit(link.slug)).status).toBe(410);
	});

	it("keeps a click-capped link out of the edge cache (its count there would be stale)", async () => {
		const { apiKey } = await createTenant();
		const capped = await mustCreate(apiKey, { url: "https://example.com/capped", max_clicks: 100 });
		const plain = await mustCreate(apiKey, { url: "https://example.com/plain" });
		expect((await visit(capped.slug)).status).toBe(302);
		expect((await visit(plain.slug)).status).toBe(302);
		expect(await waitForEdgeEntry(plain.slug)).toBeDefined();
		expect(await caches.default.match(edgeKey(capped.slug))).toBeUndefined();
	});
});
