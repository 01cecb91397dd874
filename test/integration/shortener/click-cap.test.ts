import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { counterName } from "../../../src/shortener/click-grant";
import { forgetLink } from "../../../src/shortener/service";
import { call, createTenant, sleep } from "../helpers";
import { errorCode, mustCreate, uniqueSlug, visit, waitForClicks } from "./links-helpers";

/** Each visit from its own client IP, so the per-IP redirect limit never decides a status here. */
function visitor(i: number): { headers: Record<string, string> } {
	return { headers: { "CF-Connecting-IP": `198.18.${Math.floor(Math.random() * 250)}.${i % 250}` } };
}

function form(password: string): string {
	return new URLSearchParams({ password }).toString();
}

async function statusesOf(responses: Response[]): Promise<number[]> {
	const statuses = responses.map((r) => r.status);
	await Promise.all(responses.map((r) => (r.body ? r.body.cancel() : Promise.resolve())));
	return statuses;
}

describe("max_clicks from the per-link grant counter", () => {
	it("answers exactly 3 × 302 and 17 × 410 to 20 concurrent redirects of a link capped at 3, across isolates", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/three", max_clicks: 3 });
		// One test isolate stands for many: each redirect first drops the link from this isolate's cache
		// (as an isolate that never resolved it would be), and they spread over ~600 ms, past the click
		// flush (200 ms) but within the consumer's lag, so a count read from D1 misses the others' clicks.
		const responses = await Promise.all(
			Array.from({ length: 20 }, async (_, i) => {
				await sleep(i * 30);
				await forgetLink(link.slug);
				return visit(link.slug, visitor(i));
			}),
		);
		const statuses = await statusesOf(responses);
		expect(statuses.filter((s) => s === 302)).toHaveLength(3);
		expect(statuses.filter((s) => s === 410)).toHaveLength(17);
		const late = await visit(link.slug, visitor(99));
		expect(late.status).toBe(410);
		expect(await late.json()).toMatchObject({ error: { code: "link_gone", details: { state: "exhausted" } } });
		expect(await waitForClicks(apiKey, link.slug, 3)).toBe(3);
	});

	it("answers exactly 3 × 302 and 17 × 410 to 20 simultaneous redirects in one isolate", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/three-at-once", max_clicks: 3 });
		const statuses = await statusesOf(
			await Promise.all(Array.from({ length: 20 }, (_, i) => visit(link.slug, visitor(i)))),
		);
		expect(statuses.filter((s) => s === 302)).toHaveLength(3);
		expect(statuses.filter((s) => s === 410)).toHaveLength(17);
	});

	it("redirects a one-time link (max_clicks: 1) exactly once, even to a crowd", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/once", max_clicks: 1 });
		const statuses = await statusesOf(
			await Promise.all(Array.from({ length: 10 }, (_, i) => visit(link.slug, visitor(i)))),
		);
		expect(statuses.filter((s) => s === 302)).toHaveLength(1);
		expect(statuses.filter((s) => s === 410)).toHaveLength(9);
	});

	it("answers 410 at once for a link whose counted clicks reached its cap before the counter existed", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/old", max_clicks: 5 });
		// Counted by the analytics before this change: the counter seeds itself from them on first use.
		await env.DB.prepare("UPDATE links SET clicks = 5 WHERE slug = ?").bind(link.slug).run();
		const res = await visit(link.slug, visitor(1));
		expect(res.status).toBe(410);
		expect(await errorCode(res)).toBe("link_gone");
	});

	it("seeds a never-used counter from D1, not from a stale isolate copy of the link", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/seed", max_clicks: 4 });
		// A preview resolves and caches the row (clicks 0) in this isolate without taking a grant.
		expect((await visit(link.slug, { query: "?preview=true", ...visitor(1) })).status).toBe(200);
		await env.DB.prepare("UPDATE links SET clicks = 3 WHERE slug = ?").bind(link.slug).run();
		expect((await visit(link.slug, visitor(2))).status).toBe(302);
		expect((await visit(link.slug, visitor(3))).status).toBe(410);
	});

	it("allows more redirects after PATCH raises the cap, and none after it lowers it", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/raise", max_clicks: 2 });
		for (let i = 0; i < 2; i++) expect((await visit(link.slug, visitor(i))).status).toBe(302);
		expect((await visit(link.slug, visitor(3))).status).toBe(410);
		const raise = await call("PATCH", `/api/v1/links/${link.slug}`, { token: apiKey, body: { max_clicks: 4 } });
		expect(raise.status).toBe(200);
		const statuses = await statusesOf(
			await Promise.all(Array.from({ length: 6 }, (_, i) => visit(link.slug, visitor(10 + i)))),
		);
		expect(statuses.filter((s) => s === 302)).toHaveLength(2);
		const lower = await call("PATCH", `/api/v1/links/${link.slug}`, { token: apiKey, body: { max_clicks: 3 } });
		expect(lower.status).toBe(200);
		expect((await visit(link.slug, visitor(20))).status).toBe(410);
	});

	it("lets a password-protected capped link take its grant only on a successful unlock", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/pw", max_clicks: 1, password: "let-me-in" });
		const ip = { "CF-Connecting-IP": "198.51.100.61" };
		// The form and wrong guesses take no grant.
		expect((await visit(link.slug, { headers: ip })).status).toBe(200);
		expect((await visit(link.slug, { form: form("nope"), headers: ip })).status).toBe(401);
		expect((await visit(link.slug, { form: form("nope-2"), headers: ip })).status).toBe(401);
		const right = await visit(link.slug, { form: form("let-me-in"), headers: ip });
		expect(right.status).toBe(303);
		const again = await visit(link.slug, { form: form("let-me-in"), headers: ip });
		expect(again.status).toBe(410);
		expect(await errorCode(again)).toBe("link_gone");
	}, 60_000);

	it("keeps another tenant away from the counter: its PATCH and DELETE answer 404 and change nothing", async () => {
		const owner = await createTenant();
		const other = await createTenant();
		const slug = uniqueSlug("cap-tenant");
		await mustCreate(owner.apiKey, { url: "https://example.com/mine", slug, max_clicks: 1 });
		expect((await visit(slug, visitor(1))).status).toBe(302);
		const patch = await call("PATCH", `/api/v1/links/${slug}`, { token: other.apiKey, body: { max_clicks: 100 } });
		expect(patch.status).toBe(404);
		expect((await call("DELETE", `/api/v1/links/${slug}`, { token: other.apiKey })).status).toBe(404);
		expect(
			(await call("POST", "/api/v1/links", { token: other.apiKey, body: { url: "https://e.com/", slug } })).status,
		).toBe(409);
		expect((await visit(slug, visitor(2))).status).toBe(410);
	});

	it("keeps an uncapped link off the counter (no object call) and a capped one's grants durable in it", async () => {
		const { apiKey, tenantId } = await createTenant();
		const plain = await mustCreate(apiKey, { url: "https://example.com/free" });
		const capped = await mustCreate(apiKey, { url: "https://example.com/capped", max_clicks: 9 });
		for (let i = 0; i < 3; i++) expect((await visit(plain.slug, visitor(i))).status).toBe(302);
		for (let i = 0; i < 2; i++) expect((await visit(capped.slug, visitor(i))).status).toBe(302);
		const ids = (await listDurableObjectIds(env.LINK_CAP_COUNTER)).map((id) => id.toString());
		const idOf = (slug: string) => env.LINK_CAP_COUNTER.idFromName(counterName({ tenant_id: tenantId, slug }));
		expect(ids).toContain(idOf(capped.slug).toString());
		expect(ids).not.toContain(idOf(plain.slug).toString());
		const stored = await runInDurableObject(env.LINK_CAP_COUNTER.get(idOf(capped.slug)), async (_o, state) =>
			state.storage.sql.exec<{ granted: number }>("SELECT granted FROM grants").one(),
		);
		expect(stored.granted).toBe(2);
	});

	it("fails closed with 503 click_cap_unavailable and no Location when the counter cannot answer", async () => {
		const { apiKey, tenantId } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/closed", max_clicks: 5 });
		expect((await visit(link.slug, visitor(1))).status).toBe(302);
		// Break the object's storage: its next grant throws, as an unreachable object's RPC would.
		const stub = env.LINK_CAP_COUNTER.getByName(counterName({ tenant_id: tenantId, slug: link.slug }));
		await runInDurableObject(stub, async (_o, state) => {
			state.storage.sql.exec("DROP TABLE grants");
		});
		const res = await visit(link.slug, visitor(2));
		expect(res.status).toBe(503);
		expect(res.headers.get("Location")).toBeNull();
		expect(res.headers.get("Retry-After")).toBe("2");
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		expect(await errorCode(res)).toBe("click_cap_unavailable");
		// An uncapped link of the same tenant is not affected.
		const plain = await mustCreate(apiKey, { url: "https://example.com/open" });
		expect((await visit(plain.slug, visitor(3))).status).toBe(302);
	});
});
