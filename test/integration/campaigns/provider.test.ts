import type { EmailEnv } from "../../../src/email/types";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runTick } from "../../../src/campaigns/sender";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import {
	addresses,
	createCampaign,
	createList,
	driveTicks,
	getCampaignJson,
	importRows,
	sandboxMessages,
	startManually,
} from "./campaign-helpers";

const PROVIDER = "https://api.resend.test";

type Seen = { key: string | null; auth: string | null; to: string[] };

/** A Resend-shaped provider on its external host: `respond` decides each call's answer. */
function interceptProvider(respond: (call: number) => Response | null): Seen[] {
	const seen: Seen[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith(`${PROVIDER}/`)) return real(input, init);
		const body = await req.json<{ to: string[] }[]>();
		const answer = respond(seen.length);
		seen.push({
			key: req.headers.get("Idempotency-Key"),
			auth: req.headers.get("Authorization"),
			to: body.flatMap((m) => m.to),
		});
		return answer ?? Response.json({ data: body.map((_, i) => ({ id: `re_${seen.length}_${i}` })) });
	});
	return seen;
}

const resendEnv = (): EmailEnv => ({ ...env, EMAIL_PROVIDER_URL: PROVIDER });

afterEach(() => {
	vi.restoreAllMocks();
});

describe("the email provider: Resend's API shape, outages, throttling and dead letters", () => {
	it("keeps every recipient while the provider is down, backs off, and delivers each once when it is back", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const rows = addresses(150);
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId);
		let down = true;
		const seen = interceptProvider(() => (down ? new Response("upstream down", { status: 503 }) : null));
		const tick = await startManually(tenantId, id, 150);
		for (let i = 0; i < 3; i++) {
			const result = await runTick(resendEnv(), tick);
			expect(result).toMatchObject({ next: "again", lastError: "provider answered 503" });
			expect(result.next === "again" && result.delayMs).toBeGreaterThanOrEqual(1000);
		}
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "sending", sent: 0, failed: 0 });
		down = false;
		expect(await driveTicks(tick, resendEnv())).toEqual({ next: "stop", finished: true });
		const delivered = seen.slice(3).flatMap((s) => s.to);
		expect(delivered.sort()).toEqual(rows.map((r) => r.email).sort());
		expect(seen.every((s) => s.key?.startsWith("batch-") && s.auth === `Bearer ${env.EMAIL_PROVIDER_API_KEY}`)).toBe(
			true,
		);
		// The batch retried after the outage carries the same idempotency key as the refused ones.
		expect(seen[3]?.key).toBe(seen[0]?.key);
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "sent", sent: 150 });
	});

	it("waits Retry-After on 429 without counting an attempt", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: addresses(5) });
		const id = await createCampaign(apiKey, listId);
		interceptProvider((n) =>
			n === 0 ? new Response("slow down", { status: 429, headers: { "retry-after": "7" } }) : null,
		);
		const tick = await startManually(tenantId, id, 5);
		expect(await runTick(resendEnv(), tick)).toEqual({
			next: "again",
			delayMs: 7000,
			backoffLevel: 0,
			lastError: "provider throttled (429)",
		});
		const attempts = await env.DB.prepare("SELECT MAX(attempts) AS n FROM email_deliveries WHERE campaign_id = ?")
			.bind(id)
			.first<{ n: number }>();
		expect(attempts?.n).toBe(0);
		expect(await driveTicks(tick, resendEnv())).toEqual({ next: "stop", finished: true });
	});

	it("dead-letters recipients the provider refuses for good, lists them with the reason, and retries them", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: addresses(3) });
		const id = await createCampaign(apiKey, listId);
		let refuse = true;
		interceptProvider(() => (refuse ? Response.json({ message: "invalid from" }, { status: 422 }) : null));
		const tick = await startManually(tenantId, id, 3);
		await driveTicks(tick, resendEnv());
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "failed", failed: 3, sent: 0, progress: 1 });
		const dead = await json(await call("GET", `/api/v1/campaigns/${id}/dead-letters`, { token: apiKey }));
		expect((dead.dead_letters as Json[]).length).toBe(3);
		expect(String((dead.dead_letters as Json[])[0]?.reason)).toContain("provider refused the batch (422)");
		refuse = false;
		const retry = await call("POST", `/api/v1/campaigns/${id}/dead-letters/retry`, { token: apiKey });
		expect(retry.status).toBe(202);
		expect(await json(retry)).toMatchObject({ retried: 3, campaign: { status: "sending", failed: 0 } });
		// The retry enqueued a real tick on the sandbox env; drive the new chain here against the intercepted provider.
		const row = await env.DB.prepare("SELECT chain FROM email_campaigns WHERE campaign_id = ?")
			.bind(id)
			.first<{ chain: string }>();
		await driveTicks({ ...tick, chain: String(row?.chain) }, resendEnv());
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ failed: 0, sent: 3 });
	});

	it("dead-letters a recipient after EMAIL_MAX_ATTEMPTS transient failures", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: [{ email: "flaky+x@example.com" }] });
		const id = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, id, 1);
		// One attempt allowed: the sandbox's simulated first-attempt 503 is final.
		await driveTicks(tick, { ...env, EMAIL_MAX_ATTEMPTS: "1" });
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "failed", failed: 1 });
		expect(await sandboxMessages(apiKey, id)).toEqual([]);
	});

	it("answers 429 from the sandbox over its configured rate, and the chain waits it out", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: addresses(250) });
		const id = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, id, 250);
		// The sender may go at 1,000/s but the sandbox takes 2/s: a later batch of the tick is throttled.
		const result = await runTick({ ...env, EMAIL_SANDBOX_RATE_PER_SECOND: "2" }, tick);
		expect(result).toMatchObject({ next: "again", lastError: "provider throttled (429)" });
		expect(result.next === "again" && result.delayMs).toBeGreaterThan(1000);
		const before = (await sandboxMessages(apiKey, id)).length;
		expect(before).toBeGreaterThan(0);
		expect(before).toBeLessThan(250);
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ sent: before, status: "sending" });
		await driveTicks(tick);
		expect((await sandboxMessages(apiKey, id)).length).toBe(250);
	});
});
