import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleEmailBatch } from "../../../queues/email";
import { handleEmailDeadLetterBatch } from "../../../queues/email-dlq";
import { changeCampaign, restartStalledCampaigns } from "../../../src/campaigns/service";
import { runTick } from "../../../src/campaigns/sender";
import { createTenant } from "../helpers";
import {
	addresses,
	createCampaign,
	createList,
	expectEachOnce,
	getCampaignJson,
	importRows,
	sandboxMessages,
	startManually,
	waitForStatus,
} from "./campaign-helpers";

async function campaignOf(n: number) {
	const t = await createTenant();
	const listId = await createList(t.apiKey);
	const rows = addresses(n);
	await importRows(t.apiKey, listId, { subscribers: rows });
	const id = await createCampaign(t.apiKey, listId);
	return { ...t, id, emails: rows.map((r) => r.email) };
}

async function deliver(handler: typeof handleEmailBatch, queue: string, bodies: unknown[]) {
	const batch = createMessageBatch<unknown>(
		queue,
		bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
	);
	const ctx = createExecutionContext();
	await handler(batch, env, ctx);
	return getQueueResult(batch, ctx);
}

describe("the floodgate-email consumers", () => {
	it("acks a tick once it ran, leaves an invalid message to retry on its own, and ignores the same tick redelivered", async () => {
		const { apiKey, tenantId, id, emails } = await campaignOf(30);
		const tick = await startManually(tenantId, id, 30);
		const first = await deliver(handleEmailBatch, "floodgate-email", [{ nonsense: true }, tick]);
		expect(first.explicitAcks).toEqual(["m1"]);
		expect(first.retryMessages.map((m) => m.msgId)).toEqual(["m0"]);
		expect((await getCampaignJson(apiKey, id)).status).toBe("sent");
		const again = await deliver(handleEmailBatch, "floodgate-email", [tick]);
		expect(again.explicitAcks).toEqual(["m0"]);
		expectEachOnce(await sandboxMessages(apiKey, id), emails);
	});

	it("restarts a dead-lettered chain, and the sweeper restarts a stalled one, without a duplicate", async () => {
		const { apiKey, tenantId, id, emails } = await campaignOf(40);
		const tick = await startManually(tenantId, id, 40);
		const dlq = await deliver(handleEmailDeadLetterBatch, "floodgate-email-dlq", [tick, "garbage"]);
		expect(dlq.explicitAcks.sort()).toEqual(["m0", "m1"]);
		expect((await getCampaignJson(apiKey, id)).last_error).toBe(
			"tick dead-lettered after its retries; chain restarted",
		);
		// The old tick no longer holds the chain.
		expect(await runTick(env, tick)).toEqual({ next: "stop", finished: false });
		// The new tick waits a minute in the queue; the sweeper finds the campaign stalled first.
		await env.DB.prepare("UPDATE email_campaigns SET updated_at = 0 WHERE campaign_id = ?").bind(id).run();
		expect(await restartStalledCampaigns(env, Date.now())).toMatchObject({ restarted: 1 });
		await waitForStatus(apiKey, id, "sent");
		expectEachOnce(await sandboxMessages(apiKey, id), emails);
	});

	it("stops sending at once when cancelled and never sends the rest", async () => {
		const { apiKey, tenantId, id } = await campaignOf(300);
		const tick = await startManually(tenantId, id, 300);
		const stopped = await runTick(env, tick, {
			afterSend: async (batch) => {
				if (batch === 0) await changeCampaign(env, tenantId, id, "cancel");
			},
		});
		expect(stopped).toEqual({ next: "stop", finished: false });
		expect(await runTick(env, tick)).toEqual({ next: "stop", finished: false });
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "cancelled", sent: 100 });
		expect((await sandboxMessages(apiKey, id)).length).toBe(100);
	});
});
