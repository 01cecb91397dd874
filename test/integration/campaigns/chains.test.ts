import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { installChains } from "../../../src/campaigns/chains-db";
import { claimRows, fillLedger } from "../../../src/campaigns/ledger-db";
import { getCampaign } from "../../../src/campaigns/campaigns-db";
import { peekTokens } from "../../../src/gateway/limiter/service";
import type { Tick } from "../../../src/campaigns/sender";
import { runTick } from "../../../src/campaigns/sender";
import { restartStalledCampaigns } from "../../../src/campaigns/service";
import { call, createTenant } from "../helpers";
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

const CHAINS = "SELECT COUNT(*) AS n FROM email_send_chains WHERE campaign_id = ?";

async function chainRows(campaignId: string): Promise<number> {
	return (await env.DB.prepare(CHAINS).bind(campaignId).first<{ n: number }>())?.n ?? 0;
}

/** A sending campaign with chain 0 (`startManually`) and `extra` more chains, driven by the test. */
async function startChainsManually(
	tenantId: string,
	campaignId: string,
	total: number,
	extra: number,
): Promise<Tick[]> {
	const first = await startManually(tenantId, campaignId, total);
	const tokens = Array.from({ length: extra }, () => `chn_test_${crypto.randomUUID()}`);
	await installChains(env.DB, campaignId, first.chain, tokens, Date.now());
	return [first, ...tokens.map((chain, i) => ({ tenant_id: tenantId, campaign_id: campaignId, chain, shard: i + 1 }))];
}

describe("a campaign over several send chains", () => {
	it("sends through 4 chains side by side, one crashing mid-batch: each recipient once, none skipped", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const rows = addresses(1000);
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId);
		const ticks = await startChainsManually(tenantId, id, 1000, 3);
		const [, , , crashing] = ticks;
		if (!crashing) throw new Error("no fourth chain");
		// Chain 3 crashes after its first batch was sent, before the ledger recorded it.
		await expect(
			runTick(env, crashing, {
				afterSend: () => {
					throw new Error("simulated crash");
				},
			}),
		).rejects.toThrow("simulated crash");
		expect((await sandboxMessages(apiKey, id)).length).toBe(100);

		// All four run at once (chain 3 is its redelivered tick: it re-claims its own rows).
		const results = await Promise.all(ticks.map((t) => driveTicks(t)));
		// Each chain stopped once nothing was pending; one of them moved the campaign to sent.
		expect(results.every((r) => r.next === "stop")).toBe(true);
		expectEachOnce(
			await sandboxMessages(apiKey, id),
			rows.map((r) => r.email),
		);
		expect(await getCampaignJson(apiKey, id)).toMatchObject({ status: "sent", sent: 1000, failed: 0 });
		// Several chains did the sending (each tick records its token on the rows it sent).
		const claims = await env.DB.prepare(
			"SELECT COUNT(DISTINCT claim) AS n FROM email_deliveries WHERE campaign_id = ? AND status = 'sent'",
		)
			.bind(id)
			.first<{ n: number }>();
		expect(claims?.n).toBeGreaterThan(1);
		expect(await chainRows(id)).toBe(0);
		// A late tick of every chain does nothing.
		for (const t of ticks) expect(await runTick(env, t)).toEqual({ next: "stop", finished: false });
	});

	it("pauses and resumes every chain through the API and the queue, then finishes with each recipient once", async () => {
		const { apiKey } = await createTenant();
		const listId = await createList(apiKey);
		const rows = addresses(3000, "pr");
		await importRows(apiKey, listId, { subscribers: rows });
		const id = await createCampaign(apiKey, listId);
		expect((await call("POST", `/api/v1/campaigns/${id}/send`, { token: apiKey })).status).toBe(202);
		expect(await chainRows(id)).toBe(3); // EMAIL_SEND_CHAINS = 4: chain 0 and 3 more
		const paused = await call("POST", `/api/v1/campaigns/${id}/pause`, { token: apiKey });
		expect(paused.status).toBe(202);
		expect(await paused.json()).toMatchObject({ status: "paused" });
		expect(await chainRows(id)).toBe(0);
		expect((await call("POST", `/api/v1/campaigns/${id}/resume`, { token: apiKey })).status).toBe(202);
		expect(await chainRows(id)).toBe(3);
		await waitForStatus(apiKey, id, "sent");
		expectEachOnce(
			await sandboxMessages(apiKey, id),
			rows.map((r) => r.email),
		);
		expect(await chainRows(id)).toBe(0);
	});

	it("restarts a stalled extra chain from the sweeper and ignores the stale tick", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: addresses(10, "st") });
		const id = await createCampaign(apiKey, listId);
		const [, extra] = await startChainsManually(tenantId, id, 10, 1);
		if (!extra) throw new Error("no extra chain");
		await env.DB.prepare("UPDATE email_send_chains SET updated_at = 0 WHERE campaign_id = ?").bind(id).run();
		await env.DB.prepare("UPDATE email_campaigns SET updated_at = ? WHERE campaign_id = ?").bind(Date.now(), id).run();
		expect(await restartStalledCampaigns(env, Date.now())).toMatchObject({ restarted: 1 });
		expect(await runTick(env, extra)).toEqual({ next: "stop", finished: false });
		await waitForStatus(apiKey, id, "sent");
	});

	it("takes no send tokens for a chain that finds nothing to claim (the others' tokens are not wasted)", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		await importRows(apiKey, listId, { subscribers: addresses(5, "tk") });
		const id = await createCampaign(apiKey, listId);
		const [first, second] = await startChainsManually(tenantId, id, 5, 1);
		if (!first || !second) throw new Error("no chains");
		const campaign = await getCampaign(env.DB, tenantId, id);
		if (!campaign) throw new Error("no campaign");
		await fillLedger(env.DB, tenantId, campaign, 500, Date.now());
		// Chain 0 holds every row (mid-send); chain 1 comes along with nothing to claim.
		expect(await claimRows(env.DB, id, first.chain, 100, 60_000, Date.now())).toHaveLength(5);
		const slow = { ...env, EMAIL_SEND_RATE_PER_SECOND: "1" };
		const result = await runTick(slow, second);
		expect(result).toMatchObject({ next: "again" });
		const [view] = await peekTokens(env.RATE_LIMITER, {
			key: `email-send:${tenantId}`,
			policies: [{ name: "email_send", algorithm: "token_bucket", limit: 1, windowSeconds: 1, burst: 1 }],
			cost: 1,
			onFailure: "open",
		});
		expect(view?.remaining).toBe(1);
	});
});
