import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { webhookHeaders } from "../../../src/platform/webhook-signature";
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

async function sentCampaign(n: number) {
	const t = await createTenant();
	const listId = await createList(t.apiKey);
	await importRows(t.apiKey, listId, { subscribers: addresses(n) });
	const id = await createCampaign(t.apiKey, listId);
	await driveTicks(await startManually(t.tenantId, id, n));
	return { ...t, listId, id, messages: await sandboxMessages(t.apiKey, id) };
}

function unsubscribePath(message: Json | undefined): string {
	const headers = message?.headers as Record<string, string> | undefined;
	const header = headers?.["List-Unsubscribe"] ?? "";
	return new URL(header.slice(1, -1)).pathname;
}

async function signedWebhook(event: unknown, secret = env.EMAIL_WEBHOOK_SECRET): Promise<Response> {
	const body = JSON.stringify(event);
	const headers = await webhookHeaders([secret], {
		id: `msg_${crypto.randomUUID()}`,
		timestampSeconds: Math.floor(Date.now() / 1000),
		body,
	});
	return call("POST", "/api/v1/email/webhooks/provider", { body, headers });
}

describe("compliance: one-click unsubscribe, suppression and provider webhooks", () => {
	it("unsubscribes with a signed one-click POST and no login; a GET only shows the form; a forged link is 404", async () => {
		const { apiKey, listId, messages } = await sentCampaign(2);
		const path = unsubscribePath(messages[0]);
		const page = await call("GET", path);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('method="post"');
		expect((await json(await call("GET", `/api/v1/lists/${listId}`, { token: apiKey }))).counts).toMatchObject({
			subscribed: 2,
		});
		const post = await call("POST", path, {
			body: "List-Unsubscribe=One-Click",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
		});
		expect(post.status).toBe(200);
		expect((await json(await call("GET", `/api/v1/lists/${listId}`, { token: apiKey }))).counts).toMatchObject({
			subscribed: 1,
			unsubscribed: 1,
		});
		const forged = path.slice(0, -4) + (path.endsWith("0000") ? "1111" : "0000");
		expect((await call("POST", forged)).status).toBe(404);
		expect((await call("POST", "/u/not-a-token-at-all")).status).toBe(404);
	});

	it("suppresses an unsubscribed address in the next campaign to the same list", async () => {
		const { apiKey, tenantId, listId, messages } = await sentCampaign(3);
		await call("POST", unsubscribePath(messages[1]), {
			body: "List-Unsubscribe=One-Click",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
		});
		// Re-importing the address does not resubscribe it.
		await importRows(apiKey, listId, { subscribers: [{ email: String(messages[1]?.recipient) }] });
		const second = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, second, 2);
		await driveTicks(tick);
		const recipients = (await sandboxMessages(apiKey, second)).map((m) => m.recipient);
		expect(recipients).toHaveLength(2);
		expect(recipients).not.toContain(messages[1]?.recipient);
	});

	it("applies signed bounce and complaint webhooks and refuses unsigned ones", async () => {
		const { apiKey, tenantId, listId, id, messages } = await sentCampaign(3);
		const tags = (m: Json | undefined) => {
			const key = String(m?.idempotency_key);
			return { tenant: tenantId, campaign: id, subscriber: key.slice(key.lastIndexOf("-") + 1) };
		};
		const bounce = { type: "email.bounced", data: { to: [messages[0]?.recipient], tags: tags(messages[0]) } };
		expect((await call("POST", "/api/v1/email/webhooks/provider", { body: bounce })).status).toBe(401);
		const wrongSecret = `whsec_${btoa("another-secret-of-32-bytes-long!")}`;
		expect((await signedWebhook(bounce, wrongSecret)).status).toBe(401);
		const ok = await signedWebhook(bounce);
		expect(ok.status).toBe(200);
		expect(await json(ok)).toEqual({ applied: true });
		const complaint = {
			type: "email.complained",
			data: {
				to: messages[1]?.recipient,
				tags: Object.entries(tags(messages[1])).map(([name, value]) => ({ name, value })),
			},
		};
		expect(await json(await signedWebhook(complaint))).toEqual({ applied: true });
		expect(await json(await signedWebhook({ type: "email.delivered", data: { to: "x@example.com" } }))).toEqual({
			applied: false,
		});
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ sent: 2, bounced: 1 });
		expect((await json(await call("GET", `/api/v1/lists/${listId}`, { token: apiKey }))).counts).toMatchObject({
			subscribed: 1,
			bounced: 1,
			complained: 1,
		});
	});

	it("streams progress as server-sent events and ends once the campaign is sent", async () => {
		const { apiKey, id } = await sentCampaign(2);
		const res = await call("GET", `/api/v1/campaigns/${id}/events`, { token: apiKey });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toContain("text/event-stream");
		const text = await res.text();
		expect(text).toContain("event: end");
		expect(text).toContain('"status":"sent"');
	});
});
