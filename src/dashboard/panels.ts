import { campaignProgress } from "../campaigns/service";
import { recentPipelines } from "../recordings/overview";
import { recentReports } from "../reports/service";
import { endpointsWithHealth } from "../webhooks/health";
import type { Panels } from "./panels-schema";

/** Rows per panel: each snapshot reads a bounded amount whatever the tenant holds. */
export const PANEL_LIMITS = { campaigns: 8, recordings: 5, webhooks: 10, reports: 8, healthSamples: 500 } as const;

export const EMPTY_PANELS: Panels = { campaigns: [], recordings: [], webhooks: [], reports: [] };

/**
 * A tenant's feature panels through each feature's own service functions (no SQL here): at most
 * 1 + 1 + recordings + 1 + webhooks D1 queries, each capped.
 */
export async function tenantPanels(env: Env, tenantId: string, now: number): Promise<Panels> {
	const [campaigns, recordings, endpoints, reports] = await Promise.all([
		campaignProgress(env, tenantId, PANEL_LIMITS.campaigns, now),
		recentPipelines(env.DB, tenantId, PANEL_LIMITS.recordings),
		endpointsWithHealth(env.DB, tenantId, now, PANEL_LIMITS.webhooks, PANEL_LIMITS.healthSamples),
		recentReports(env, tenantId, PANEL_LIMITS.reports),
	]);
	return {
		campaigns,
		recordings,
		webhooks: endpoints.map(({ endpoint: e, health: h }) => ({
			id: e.id,
			url: e.url,
			enabled: e.enabled === 1,
			disabled_reason: e.disabled_reason,
			failing_since: e.failing_since,
			attempts: h.attempts,
			success_rate: h.success_rate,
			p50_ms: h.p50_ms,
			p99_ms: h.p99_ms,
		})),
		reports: reports.map((r) => ({
			report_id: r.report_id,
			type: r.type,
			status: r.status,
			progress: r.progress,
			chunks_done: r.chunks_done,
			chunks_total: r.chunks_total,
			error: r.error,
			created_at: r.created_at,
			finished_at: r.finished_at,
			result: r.result,
		})),
	};
}
