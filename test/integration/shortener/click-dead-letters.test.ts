import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleClicksDeadLetterBatch } from "../../../queues/clicks";
import { call, createTenant, json, sleep } from "../helpers";
import { mustCreate, waitForClicks } from "./links-helpers";

type Letter = {
	id: string;
	queue: string;
	clicks: number;
	replay_count: number;
	body: { id: string; entries: { slug: string }[] };
};
type Page = { dead_letters: Letter[]; next_cursor: string | null };

const DAY = new Date().toISOString().slice(0, 10);

function entry(slug: string, n: number) {
	return { slug, day: DAY, country: "DE", referrer: "(direct)", device: "desktop", n };
}

/** Hands `body` to the floodgate-clicks-dlq consumer as the queue message `queueId`; it must be acked. */
async function deadLetter(queueId: string, body: unknown): Promise<void> {
	const batch = createMessageBatch("floodgate-clicks-dlq", [
		{ id: queueId, timestamp: new Date(), attempts: 11, body },
	]);
	const ctx = createExecutionContext();
	await handleClicksDeadLetterBatch(batch, env, ctx);
	expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([queueId]);
}

async function letters(apiKey: string, query = ""): Promise<Page> {
	const res = await call("GET", `/api/v1/shortener/dead-letters${query}`, { token: apiKey });
	expect(res.status).toBe(200);
	return res.json<Page>();
}

function replay(apiKey: string, id: string): Promise<Response> {
	return call("POST", `/api/v1/shortener/dead-letters/${id}/replay`, { token: apiKey });
}

describe("click dead letters", () => {
	it("splits a dead message by tenant; each tenant sees and replays only its own clicks, counted once", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const linkA = await mustCreate(a.apiKey, { url: "https://example.com/dl-a" });
		const linkB = await mustCreate(b.apiKey, { url: "https://example.com/dl-b" });
		const message = {
			id: crypto.randomUUID(),
			entries: [entry(linkA.slug, 3), entry(linkB.slug, 2), entry("no-such-link-dl", 1)],
		};
		const queueId = `dead-clicks-${crypto.randomUUID()}`;
		await deadLetter(queueId, message);

		const [mine] = (await letters(a.apiKey)).dead_letters;
		expect(mine).toMatchObject({ queue: "floodgate-clicks", clicks: 3, replay_count: 0 });
		expect(mine?.body.entries.map((e) => e.slug)).toEqual([linkA.slug]);
		expect(mine?.body.id).not.toBe(message.id);
		const theirs = (await letters(b.apiKey)).dead_letters;
		expect(theirs.map((l) => l.clicks)).toEqual([2]);
		const id = mine?.id ?? "";

		// Tenant B cannot replay A's dead letter; a malformed id is a 400.
		expect((await replay(b.apiKey, id)).status).toBe(404);
		expect((await replay(a.apiKey, "not-an-id")).status).toBe(400);

		const res = await replay(a.apiKey, id);
		expect(res.status).toBe(202);
		expect(await json(res)).toMatchObject({ id, replay_count: 1 });
		expect(await waitForClicks(a.apiKey, linkA.slug, 3)).toBe(3);
		expect((await replay(a.apiKey, id)).status).toBe(409);
		expect((await letters(a.apiKey)).dead_letters).toEqual([]);
		expect((await letters(a.apiKey, "?status=replayed")).dead_letters.map((l) => l.id)).toEqual([id]);

		// The same dead message delivered again: the same row is pending again, and its replay counts nothing more.
		await deadLetter(queueId, message);
		expect((await letters(a.apiKey)).dead_letters.map((l) => l.id)).toEqual([id]);
		expect((await replay(a.apiKey, id)).status).toBe(202);
		await sleep(1500);
		expect(await waitForClicks(a.apiKey, linkA.slug, 4)).toBe(3);
		// B's part is untouched by A's replays.
		expect((await letters(b.apiKey)).dead_letters.map((l) => l.replay_count)).toEqual([0]);
	});

	it("keeps a one-tenant message's own id, pages with a cursor, and never lists an invalid body", async () => {
		const t = await createTenant();
		const link = await mustCreate(t.apiKey, { url: "https://example.com/dl-page" });
		const first = { id: crypto.randomUUID(), entries: [entry(link.slug, 1)] };
		await deadLetter(`dead-clicks-${crypto.randomUUID()}`, first);
		await sleep(5);
		await deadLetter(`dead-clicks-${crypto.randomUUID()}`, { id: crypto.randomUUID(), entries: [entry(link.slug, 2)] });
		await deadLetter(`dead-clicks-${crypto.randomUUID()}`, { entries: "not a click message" });

		const page1 = await letters(t.apiKey, "?limit=1");
		expect(page1.dead_letters.map((l) => l.clicks)).toEqual([2]);
		expect(page1.next_cursor).not.toBeNull();
		const page2 = await letters(t.apiKey, `?limit=1&cursor=${page1.next_cursor ?? ""}`);
		expect(page2.dead_letters.map((l) => l.body.id)).toEqual([first.id]);
		expect(page2.next_cursor).toBeNull();
		const badLimit = await call("GET", "/api/v1/shortener/dead-letters?limit=101", { token: t.apiKey });
		expect(badLimit.status).toBe(400);
		expect((await call("GET", "/api/v1/shortener/dead-letters")).status).toBe(401);
	});
});
