import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Panels } from "../../../src/dashboard/panels-schema";
import { PANEL_LIMITS } from "../../../src/dashboard/panels";
import { switchEndpoint } from "../../../src/webhooks/endpoints";
import { call, createTenant, json } from "../helpers";
import { addresses, createCampaign, createList, importRows } from "../campaigns/campaign-helpers";
import { completeUpload, createRecording } from "../recordings/recording-helpers";
import { pastDay, postReport } from "../reports/reports-helpers";
import { createEndpoint, RECEIVER } from "../webhooks/webhooks-helpers";
import { login, withSession } from "./dashboard-helpers";

async function panels(token: string): Promise<Panels> {
	const res = await call("GET", "/api/v1/dashboard/snapshot", { token });
	expect(res.status).toBe(200);
	return (await res.json<{ panels: Panels }>()).panels;
}

/** Tenant A: a sent campaign, a recording, a disabled webhook endpoint and a report. */
async function seedFeatures(apiKey: string, tenantId: string) {
	const listId = await createList(apiKey);
	await importRows(apiKey, listId, { subscribers: addresses(3) });
	const campaignId = await createCampaign(apiKey, listId);
	expect((await call("POST", `/api/v1/campaigns/${campaignId}/send`, { token: apiKey })).status).toBe(202);
	const upload = await completeUpload(apiKey);
	const recording = await createRecording(apiKey, upload.id);
	const endpoint = await createEndpoint(apiKey, { url: `${RECEIVER}/a` });
	expect(await switchEndpoint(env, tenantId, endpoint.id, false, "failing for 3 days")).toBe(true);
	const report = await postReport(apiKey, {
		type: "truck_distance",
		params: { from: pastDay(2).date, to: pastDay(1).date },
	});
	expect(report.status, await report.clone().text()).toBeLessThan(300);
	return {
		campaignId,
		recordingId: String(recording.recording_id),
		endpointId: endpoint.id,
		report: await json(report),
	};
}

describe("dashboard feature panels", () => {
	it("shows a tenant's campaigns, recording stage graphs, webhook health and reports, and only its own", async () => {
		const a = await createTenant("panels-a");
		const b = await createTenant("panels-b");
		const seeded = await seedFeatures(a.apiKey, a.tenantId);

		const p = await panels(a.apiKey);
		const campaign = p.campaigns.find((c) => c.campaign_id === seeded.campaignId);
		expect(campaign).toMatchObject({ name: "Launch", total: 3 });
		expect(["sending", "sent"]).toContain(campaign?.status);
		expect(campaign?.progress).toBeGreaterThanOrEqual(0);

		const recording = p.recordings.find((r) => r.recording_id === seeded.recordingId);
		expect(recording?.stages.map((s) => s.name)).toEqual(["audio", "video", "transcript", "highlights", "summary"]);
		expect(recording?.stages.find((s) => s.name === "highlights")?.after).toEqual(["audio", "video", "transcript"]);
		expect(recording?.stages.find((s) => s.name === "summary")).toMatchObject({ after: ["highlights"], progress: 0 });

		expect(p.webhooks).toEqual([
			{
				id: seeded.endpointId,
				url: `${RECEIVER}/a`,
				enabled: false,
				disabled_reason: "failing for 3 days",
				failing_since: null,
				attempts: 0,
				success_rate: null,
				p50_ms: null,
				p99_ms: null,
			},
		]);
		expect(p.reports.map((r) => r.report_id)).toEqual([seeded.report.report_id]);
		expect(p.reports[0]?.type).toBe("truck_distance");

		// Tenant B, by API key and by session cookie, sees none of it.
		expect(await panels(b.apiKey)).toEqual({ campaigns: [], recordings: [], webhooks: [], reports: [] });
		const { cookie } = await login(b.apiKey);
		const viaCookie = await withSession("GET", "/api/v1/dashboard/snapshot", cookie);
		expect((await viaCookie.json<{ panels: Panels }>()).panels.campaigns).toEqual([]);
	});

	it("keeps each panel capped whatever the tenant holds", async () => {
		const a = await createTenant("panels-cap");
		const listId = await createList(a.apiKey);
		for (let i = 0; i < PANEL_LIMITS.campaigns + 2; i++) await createCampaign(a.apiKey, listId, { name: `c${i}` });
		const p = await panels(a.apiKey);
		expect(p.campaigns).toHaveLength(PANEL_LIMITS.campaigns);
		expect(p.campaigns.every((c) => c.status === "draft" && c.progress === 0)).toBe(true);
	});

	it("gives the platform view empty panels", async () => {
		const res = await call("GET", "/api/v1/dashboard/snapshot", { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(200);
		expect((await res.json<{ panels: Panels }>()).panels).toEqual({
			campaigns: [],
			recordings: [],
			webhooks: [],
			reports: [],
		});
	});
});
