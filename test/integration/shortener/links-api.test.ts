import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, createTenant, sleep } from "../helpers";
import type { ErrorJson, Link } from "./links-helpers";
import { create, errorCode, mustCreate, uniqueSlug, visit, waitForClicks } from "./links-helpers";

/** The public redirect, not followed (a service binding's fetch follows redirects by default). */
function follow(slug: string, query = ""): Promise<Response> {
	return visit(slug, { query });
}

describe("creating short links", () => {
	it("generates a 7-character base62 slug and answers the short URL", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/a?b=1" });
		expect(link.slug).toMatch(/^[0-9A-Za-z]{7}$/);
		expect(link.short_url).toBe(`http://floodgate.test/s/${link.slug}`);
		expect(link.url).toBe("https://example.com/a?b=1");
	});

	it("takes a custom slug once across the platform: a second tenant gets 409", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const slug = uniqueSlug("promo");
		expect((await mustCreate(a.apiKey, { url: "https://example.com/", slug })).slug).toBe(slug);
		const again = await create(b.apiKey, { url: "https://example.org/", slug });
		expect(again.status).toBe(409);
		expect(await errorCode(again)).toBe("slug_taken");
	});

	it("refuses private, loopback, metadata and non-http destinations with destination_not_allowed", async () => {
		const { apiKey } = await createTenant();
		for (const url of [
			"http://127.0.0.1/admin",
			"http://169.254.169.254/latest/meta-data/",
			"https://10.0.0.8/",
			"http://localhost:8787/",
			"https://[::1]/",
			"javascript:alert(1)",
			"ftp://example.com/file",
			"https://user:pw@example.com/",
			"http://floodgate.test/s/loop",
		]) {
			const res = await create(apiKey, { url });
			expect(res.status, url).toBe(400);
			expect(await errorCode(res), url).toBe("destination_not_allowed");
		}
	});

	it("allows plain http to a public host (the platform never fetches it)", async () => {
		const { apiKey } = await createTenant();
		expect((await mustCreate(apiKey, { url: "http://example.com/x" })).url).toBe("http://example.com/x");
	});

	it("rejects a bad custom slug and a past expiry with 400", async () => {
		const { apiKey } = await createTenant();
		expect((await create(apiKey, { url: "https://example.com/", slug: "a b" })).status).toBe(400);
		expect((await create(apiKey, { url: "https://example.com/", slug: "ab" })).status).toBe(400);
		expect((await create(apiKey, { url: "https://example.com/", expires_at: Date.now() - 1000 })).status).toBe(400);
	});
});

describe("the public redirect", () => {
	it("answers 302 with Location and no-store, and 301 with a max-age when permanent", async () => {
		const { apiKey } = await createTenant();
		const temp = await mustCreate(apiKey, { url: "https://example.com/t" });
		const res = await follow(temp.slug);
		expect(res.status).toBe(302);
		expect(res.headers.get("Location")).toBe("https://example.com/t");
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		const perm = await mustCreate(apiKey, { url: "https://example.com/p", permanent: true });
		const res301 = await follow(perm.slug);
		expect(res301.status).toBe(301);
		expect(res301.headers.get("Cache-Control")).toBe("public, max-age=3600");
	});

	it("answers 404 for an unknown slug", async () => {
		const res = await follow("Nope123");
		expect(res.status).toBe(404);
		expect(await errorCode(res)).toBe("not_found");
		expect((await follow("a%20b")).status).toBe(404);
	});

	it("answers 410 once a link has expired", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/e", expires_at: Date.now() + 1000 });
		expect((await follow(link.slug)).status).toBe(302);
		await sleep(1100);
		const gone = await follow(link.slug);
		expect(gone.status).toBe(410);
		expect(await gone.json<ErrorJson>()).toMatchObject({ error: { code: "link_gone", details: { state: "expired" } } });
	});

	it("answers 410 after the link is deleted, and keeps the slug reserved", async () => {
		const { apiKey } = await createTenant();
		const slug = uniqueSlug("gone");
		await mustCreate(apiKey, { url: "https://example.com/d", slug });
		expect((await call("DELETE", `/api/v1/links/${slug}`, { token: apiKey })).status).toBe(200);
		const gone = await follow(slug);
		expect(gone.status).toBe(410);
		expect(await gone.json<ErrorJson>()).toMatchObject({ error: { details: { state: "deleted" } } });
		expect((await create(apiKey, { url: "https://example.org/", slug })).status).toBe(409);
		expect((await call("GET", `/api/v1/links/${slug}`, { token: apiKey })).status).toBe(404);
	});

	it("answers 410 once max_clicks is reached", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/m", max_clicks: 2 });
		expect((await follow(link.slug)).status).toBe(302);
		expect((await follow(link.slug)).status).toBe(302);
		expect((await follow(link.slug)).status).toBe(410);
	});

	it("still answers 410 at max_clicks after the counted clicks were written", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/m2", max_clicks: 2 });
		for (let i = 0; i < 2; i++) {
			expect((await follow(link.slug)).status).toBe(302);
			await sleep(500);
		}
		expect((await follow(link.slug)).status).toBe(410);
	});

	it("limits redirects per client IP with 429 and Retry-After", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/flood" });
		const ip = { "CF-Connecting-IP": "198.51.100.77" };
		const statuses: number[] = [];
		for (let i = 0; i < 260; i++) {
			const res = await exports.default.fetch(new Request(`${BASE}/s/${link.slug}?preview=true`, { headers: ip }));
			statuses.push(res.status);
			if (res.status === 429) {
				expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
				break;
			}
		}
		expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(200);
		expect(statuses.at(-1)).toBe(429);
		expect((await follow(link.slug)).status).toBe(302);
	});

	it("shows the destination without redirecting or counting on ?preview=true", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/pv" });
		const res = await follow(link.slug, "?preview=true");
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ slug: link.slug, url: "https://example.com/pv", expires_at: null });
		await sleep(1500);
		expect((await (await call("GET", `/api/v1/links/${link.slug}`, { token: apiKey })).json<Link>()).clicks).toBe(0);
	});

	it("counts clicks after the response, per link and per UTC day", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/c" });
		for (let i = 0; i < 3; i++) expect((await follow(link.slug)).status).toBe(302);
		expect(await waitForClicks(apiKey, link.slug, 3)).toBe(3);
		const stats = await call("GET", `/api/v1/links/${link.slug}/stats`, { token: apiKey });
		expect(await stats.json()).toMatchObject({
			slug: link.slug,
			clicks: 3,
			total: 3,
			days: [{ day: new Date().toISOString().slice(0, 10), clicks: 3 }],
		});
		const row = await env.DB.prepare("SELECT clicks FROM links WHERE slug = ?")
			.bind(link.slug)
			.first<{ clicks: number }>();
		expect(row?.clicks).toBe(3);
	});
});

describe("tenant isolation", () => {
	it("gives tenant B a 404 for tenant A's link on read, stats and delete, while the redirect still works", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const link = await mustCreate(a.apiKey, { url: "https://example.com/iso" });
		for (const path of [`/api/v1/links/${link.slug}`, `/api/v1/links/${link.slug}/stats`]) {
			expect((await call("GET", path, { token: b.apiKey })).status).toBe(404);
		}
		expect((await call("DELETE", `/api/v1/links/${link.slug}`, { token: b.apiKey })).status).toBe(404);
		expect((await follow(link.slug)).status).toBe(302);
		const list = await (await call("GET", "/api/v1/links", { token: b.apiKey })).json<{ links: Link[] }>();
		expect(list.links.map((l) => l.slug)).not.toContain(link.slug);
	});
});

describe("changing links", () => {
	it("changes the destination and clears the expiry; the redirect follows at once", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/old", expires_at: Date.now() + 60_000 });
		expect((await follow(link.slug)).headers.get("Location")).toBe("https://example.com/old");
		const res = await call("PATCH", `/api/v1/links/${link.slug}`, {
			token: apiKey,
			body: { url: "https://example.org/new", expires_at: null },
		});
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ url: "https://example.org/new", expires_at: null });
		expect((await follow(link.slug)).headers.get("Location")).toBe("https://example.org/new");
	});

	it("refuses a private destination, and gives another tenant a 404", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const link = await mustCreate(a.apiKey, { url: "https://example.com/p" });
		const bad = await call("PATCH", `/api/v1/links/${link.slug}`, {
			token: a.apiKey,
			body: { url: "http://10.1.2.3/" },
		});
		expect(bad.status).toBe(400);
		expect(await errorCode(bad)).toBe("destination_not_allowed");
		const other = await call("PATCH", `/api/v1/links/${link.slug}`, { token: b.apiKey, body: { permanent: true } });
		expect(other.status).toBe(404);
		expect((await follow(link.slug)).status).toBe(302);
	});
});

describe("listing links", () => {
	it("pages newest first with a cursor, without repeats", async () => {
		const { apiKey } = await createTenant();
		const made: string[] = [];
		for (let i = 0; i < 5; i++) made.push((await mustCreate(apiKey, { url: `https://example.com/${i}` })).slug);
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
			const page = await (
				await call("GET", `/api/v1/links${query}`, { token: apiKey })
			).json<{ links: Link[]; next_cursor: string | null }>();
			expect(page.links.length).toBeLessThanOrEqual(2);
			seen.push(...page.links.map((l) => l.slug));
			cursor = page.next_cursor;
		} while (cursor);
		expect(seen.toSorted()).toEqual(made.toSorted());
		expect(seen[0]).toBe(made[4]);
	});
});
