import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { changeCampaign } from "../../../src/campaigns/service";
import { runTick } from "../../../src/campaigns/sender";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import {
	addresses,
	createCampaign,
	createList,
	driveTicks,
	expectEachOnce,
	getCampaignJson,
	importRows,
	sandboxMessages,
	startManually,
	waitForStatus,
} from "./campaign-helpers";

const emails = (rows: { email: string }[]) => rows.map((r) => r.email);

describe("campaign sending: never twice, never skipped", () => {
	it("sends through the real queue: 202 at once, each recipient once with RFC 8058 headers and rendered templates", async () => {
		const { apiKey } = await createTenant();
		const listId = await createList(apiKey);
		const rows = [...addresses(120), { email: "o'brien@example.com", first_name: "<b>Ann</b>" }];
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId, { html: "<p>Hi {{first_name}}</p>" });
		const sent = await call("POST", `/api/v1/campaigns/${id}/send`, { token: apiKey });
		expect(sent.status).toBe(202);
		expect((await json(sent)).status).toBe("sending");
		// A retried send changes nothing.
		expect((await call("POST", `/api/v1/campaigns/${id}/send`, { token: apiKey })).status).toBe(202);
		const done = await waitForStatus(apiKey, id, "sent");
		expect(done).toMatchObject({ total: 121, sent: 121, failed: 0, progress: 1 });
		const messages = await sandboxMessages(apiKey, id);
		expectEachOnce(messages, emails(rows));
		const ann = messages.find((m) => m.recipient === "o'brien@example.com");
		expect(ann?.subject).toBe("Hello <b>Ann</b>");
		expect(ann?.html).toBe("<p>Hi &lt;b&gt;Ann&lt;&#x2F;b&gt;</p>");
		const headers = ann?.headers as Record<string, string>;
		expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
		expect(headers["List-Unsubscribe"]).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/u\/.+>$/);
		expect(String(ann?.text)).toContain(headers["List-Unsubscribe"]?.slice(1, -1));
		expect(ann?.idempotency_key).toMatch(new RegExp(`^${id}-\\d+$`));
	});

	it("survives a consumer crash after a batch was sent: the redelivered tick resends with the same keys, each recipient once", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const rows = addresses(250);
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, id, 250);
		// Crash after the second provider batch answered, before the ledger recorded it.
		const crash = runTick(env, tick, {
			afterSend: (round) => {
				if (round >= 1) throw new Error("simulated crash");
			},
		});
		await expect(crash).rejects.toThrow("simulated crash");
		const partial = await sandboxMessages(apiKey, id);
		expect(partial.length).toBeGreaterThan(100);
		expect(partial.length).toBeLessThan(250);
		// The queue redelivers the same tick (same chain): it re-claims the rows it held.
		expect(await driveTicks(tick)).toEqual({ next: "stop", finished: true });
		expectEachOnce(await sandboxMessages(apiKey, id), emails(rows));
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ sent: 250, failed: 0 });
		// A second redelivery of a tick after the chain moved on does nothing.
		expect(await runTick(env, tick)).toEqual({ next: "stop", finished: false });
	});

	it("pauses mid-send (pausing twice is a no-op), resumes, and still sends each recipient once", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const rows = addresses(300);
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, id, 300);
		const stopped = await runTick(env, tick, {
			afterSend: async (round) => {
				if (round === 0) await changeCampaign(env, tenantId, id, "pause");
			},
		});
		expect(stopped).toEqual({ next: "stop", finished: false });
		const again = await call("POST", `/api/v1/campaigns/${id}/pause`, { token: apiKey });
		expect(again.status).toBe(202);
		expect((await json(again)).status).toBe("paused");
		const paused = await getCampaignJson(apiKey, id);
		expect(paused.sent).toBe(100);
		expect((await call("POST", `/api/v1/campaigns/${id}/send`, { token: apiKey })).status).toBe(202);
		expect((await getCampaignJson(apiKey, id)).status).toBe("paused");
		expect((await call("POST", `/api/v1/campaigns/${id}/resume`, { token: apiKey })).status).toBe(202);
		await waitForStatus(apiKey, id, "sent");
		expectEachOnce(await sandboxMessages(apiKey, id), emails(rows));
	});

	it("simulates bounces, complaints and a flaky first attempt, and skips suppressed addresses", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const rows = [
			...addresses(3),
			{ email: "bounce+1@example.com" },
			{ email: "complaint+1@example.com" },
			{ email: "flaky+1@example.com" },
			{ email: "gone@example.com" },
		];
		await importRows(apiKey, listId, { subscribers: rows });
		await env.DB.prepare(
			"INSERT INTO email_suppressions (tenant_id, email, reason, created_at) VALUES (?, 'gone@example.com', 'manual', 0)",
		)
			.bind(tenantId)
			.run();
		const id = await createCampaign(apiKey, listId);
		const tick = await startManually(tenantId, id, rows.length);
		expect(await driveTicks(tick)).toEqual({ next: "stop", finished: true });
		const c = await getCampaignJson(apiKey, id);
		expect(c).toMatchObject({ total: 7, sent: 5, bounced: 1, suppressed: 1, failed: 0, status: "sent", progress: 1 });
		const messages = await sandboxMessages(apiKey, id);
		expectEachOnce(
			messages,
			emails(rows).filter((e) => e !== "gone@example.com"),
		);
		const list = await json(await call("GET", `/api/v1/lists/${listId}`, { token: apiKey }));
		expect(list.counts).toMatchObject({ subscribed: 5, bounced: 1, complained: 1 });
		const suppressed = await env.DB.prepare(
			"SELECT email, reason FROM email_suppressions WHERE tenant_id = ? ORDER BY email",
		)
			.bind(tenantId)
			.all();
		expect(suppressed.results).toEqual([
			{ email: "bounce+1@example.com", reason: "bounced" },
			{ email: "complaint+1@example.com", reason: "complained" },
			{ email: "gone@example.com", reason: "manual" },
		]);
	});

	it("refuses to send an empty list (422, still a draft) and answers 404 for another tenant's campaign", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const listId = await createList(a.apiKey);
		const id = await createCampaign(a.apiKey, listId);
		const empty = await call("POST", `/api/v1/campaigns/${id}/send`, { token: a.apiKey });
		expect(empty.status).toBe(422);
		expect((await json(empty)).error).toMatchObject({ code: "list_empty" });
		expect((await getCampaignJson(a.apiKey, id)).status).toBe("draft");
		expect((await call("POST", `/api/v1/campaigns/${id}/pause`, { token: a.apiKey })).status).toBe(409);
		for (const [method, path] of [
			["GET", `/api/v1/campaigns/${id}`],
			["PATCH", `/api/v1/campaigns/${id}`],
			["DELETE", `/api/v1/campaigns/${id}`],
			["POST", `/api/v1/campaigns/${id}/send`],
			["POST", `/api/v1/campaigns/${id}/pause`],
			["POST", `/api/v1/campaigns/${id}/resume`],
			["POST", `/api/v1/campaigns/${id}/cancel`],
			["GET", `/api/v1/campaigns/${id}/events`],
			["GET", `/api/v1/campaigns/${id}/dead-letters`],
			["POST", `/api/v1/campaigns/${id}/dead-letters/retry`],
		] as const) {
			const res = await call(method, path, { token: b.apiKey, body: method === "PATCH" ? { name: "x" } : undefined });
			expect(res.status, `${method} ${path}`).toBe(404);
		}
		const other = await call("POST", "/api/v1/campaigns", {
			token: b.apiKey,
			body: { name: "x", list_id: listId, from: "a@example.com", subject: "s", text: "t" },
		});
		expect(other.status).toBe(404);
		const sandbox = await json(
			await call("GET", `/api/v1/email/sandbox/messages?campaign_id=${id}`, { token: b.apiKey }),
		);
		expect(sandbox.messages).toEqual([]);
	});

	it("rejects invalid campaigns with the fields named", async () => {
		const { apiKey } = await createTenant();
		const listId = await createList(apiKey);
		const res = await call("POST", "/api/v1/campaigns", {
			token: apiKey,
			body: { name: "", list_id: listId, from: "nobody", subject: "{{#open}}", text: "t" },
		});
		expect(res.status).toBe(400);
		const paths = ((await json(res)).error as { details: { fields: Json[] } }).details.fields.map((f) => f.path);
		expect(paths).toEqual(expect.arrayContaining(["name", "from", "subject"]));
	});
});
