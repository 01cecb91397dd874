import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleClicksBatch, handleClicksDeadLetterBatch } from "../../../queues/clicks";
import { call, createTenant } from "../helpers";
import type { Link } from "./links-helpers";
import { mustCreate, visit, waitForClicks } from "./links-helpers";

type Count = { value: string; clicks: number };
type Stats = {
	clicks: number;
	total: number;
	from: string;
	to: string;
	days: { day: string; clicks: number }[];
	countries: Count[];
	referrers: Count[];
	devices: Count[];
};

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";

async function stats(apiKey: string, slug: string, query = ""): Promise<Response> {
	return call("GET", `/api/v1/links/${slug}/stats${query}`, { token: apiKey });
}

function clickMessage(slug: string, id: string, day: string, n: number) {
	return { id, entries: [{ slug, day, country: "FR", referrer: "news.example", device: "desktop", n }] };
}

async function deliver(messages: { id: string; body: unknown }[]) {
	const batch = createMessageBatch<unknown>(
		"floodgate-clicks",
		messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: 1, body: m.body })),
	);
	const ctx = createExecutionContext();
	await handleClicksBatch(batch, env, ctx);
	return getQueueResult(batch, ctx);
}

describe("click analytics", () => {
	it("counts clicks through the queue by day, country, referrer host and device class", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/an" });
		const visits: { cf?: { country: string }; headers: Record<string, string> }[] = [
			{ cf: { country: "DE" }, headers: { "User-Agent": IPHONE, Referer: "https://news.example.com/a?x=secret" } },
			{ cf: { country: "DE" }, headers: { "User-Agent": DESKTOP, Referer: "https://news.example.com/b" } },
			{ cf: { country: "US" }, headers: { "User-Agent": IPHONE } },
			{ headers: { "User-Agent": "curl/8.4.0" } },
		];
		for (const v of visits) expect((await visit(link.slug, v)).status).toBe(302);
		expect(await waitForClicks(apiKey, link.slug, 4)).toBe(4);
		const res = await stats(apiKey, link.slug);
		expect(res.status).toBe(200);
		const body = await res.json<Stats>();
		const today = new Date().toISOString().slice(0, 10);
		expect(body).toMatchObject({ clicks: 4, total: 4, to: today, days: [{ day: today, clicks: 4 }] });
		expect(body.countries).toEqual([
			{ value: "DE", clicks: 2 },
			{ value: "US", clicks: 1 },
			{ value: "XX", clicks: 1 },
		]);
		expect(body.referrers).toEqual([
			{ value: "(direct)", clicks: 2 },
			{ value: "news.example.com", clicks: 2 },
		]);
		expect(body.devices).toEqual([
			{ value: "mobile", clicks: 2 },
			{ value: "bot", clicks: 1 },
			{ value: "desktop", clicks: 1 },
		]);
		expect(JSON.stringify(body)).not.toContain("secret");
		const top1 = await (await stats(apiKey, link.slug, "?top=1")).json<Stats>();
		expect(top1.countries).toEqual([{ value: "DE", clicks: 2 }]);
	});

	it("counts a redelivered message once, and retries an invalid one on its own", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/once" });
		const body = clickMessage(link.slug, crypto.randomUUID(), "2026-01-05", 7);
		for (const attempt of ["first", "redelivery"]) {
			const result = await deliver([
				{ id: attempt, body },
				{ id: `${attempt}-bad`, body: { id: "nope", entries: [] } },
			]);
			expect(result.explicitAcks).toEqual([attempt]);
			expect(result.retryMessages.map((m) => m.msgId)).toEqual([`${attempt}-bad`]);
		}
		const read = await call("GET", `/api/v1/links/${link.slug}`, { token: apiKey });
		expect((await read.json<Link>()).clicks).toBe(7);
		const jan = await (await stats(apiKey, link.slug, "?from=2026-01-01&to=2026-01-31")).json<Stats>();
		expect(jan).toMatchObject({ total: 7, days: [{ day: "2026-01-05", clicks: 7 }] });
		expect(jan.countries).toEqual([{ value: "FR", clicks: 7 }]);
		expect(jan.referrers).toEqual([{ value: "news.example", clicks: 7 }]);
	});

	it("filters by the from/to range and refuses a reversed or too long one with 400", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/range" });
		await deliver([
			{ id: "a", body: clickMessage(link.slug, crypto.randomUUID(), "2026-02-01", 2) },
			{ id: "b", body: clickMessage(link.slug, crypto.randomUUID(), "2026-03-01", 3) },
		]);
		const feb = await (await stats(apiKey, link.slug, "?from=2026-02-01&to=2026-02-28")).json<Stats>();
		expect(feb).toMatchObject({ clicks: 5, total: 2, days: [{ day: "2026-02-01", clicks: 2 }] });
		expect(feb.devices).toEqual([{ value: "desktop", clicks: 2 }]);
		expect((await stats(apiKey, link.slug, "?from=2026-03-01&to=2026-02-01")).status).toBe(400);
		expect((await stats(apiKey, link.slug, "?from=2024-01-01&to=2026-02-01")).status).toBe(400);
		expect((await stats(apiKey, link.slug, "?from=yesterday")).status).toBe(400);
		expect((await stats(apiKey, link.slug, "?top=51")).status).toBe(400);
	});

	it("gives another tenant a 404 for the stats", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const link = await mustCreate(a.apiKey, { url: "https://example.com/iso-stats" });
		expect((await stats(b.apiKey, link.slug, "?from=2026-01-01&to=2026-01-31")).status).toBe(404);
	});

	it("acks dead letters after logging them", async () => {
		const batch = createMessageBatch<unknown>("floodgate-clicks-dlq", [
			{ id: "dead-1", timestamp: new Date(), attempts: 1, body: { whichever: true } },
		]);
		const ctx = createExecutionContext();
		await handleClicksDeadLetterBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
	});
});
