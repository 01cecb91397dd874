import { z } from "zod";
import { CAMPAIGN_STATUSES } from "../campaigns/domain";

/** The feature panels of a tenant's snapshot: campaigns, recording pipelines, webhook health, reports. */

const fraction = z.number().min(0).max(1);

export const campaignPanelSchema = z.object({
	campaign_id: z.string(),
	name: z.string(),
	status: z.enum(CAMPAIGN_STATUSES),
	total: z.number().int().describe("Subscribed recipients when sending started (0 for a draft)."),
	sent: z.number().int(),
	failed: z.number().int(),
	progress: fraction,
	rate: z.number().describe("Recipients per second since the start."),
	eta: z.number().int().nullable().describe("Expected finish, epoch ms, while sending."),
});

const stageStatus = z.enum(["pending", "running", "completed", "failed", "cancelled"]);
export const pipelinePanelSchema = z.object({
	recording_id: z.string(),
	title: z.string().nullable(),
	meeting_id: z.string(),
	status: z.enum(["queued", "processing", "ready", "failed"]),
	created_at: z.number().int(),
	stages: z.array(
		z.object({
			name: z.string(),
			after: z.array(z.string()).describe("The stages this one waits for (the graph's edges)."),
			status: stageStatus,
			progress: fraction,
			segments: z.number().int(),
			segments_done: z.number().int(),
		}),
	),
});

export const endpointPanelSchema = z.object({
	id: z.string(),
	url: z.string(),
	enabled: z.boolean(),
	disabled_reason: z.string().nullable(),
	failing_since: z.number().int().nullable(),
	attempts: z.number().int().describe("Attempts in the window (at most the newest 500)."),
	success_rate: z.number().nullable(),
	p50_ms: z.number().nullable(),
	p99_ms: z.number().nullable(),
});

const time = z.string().nullable();
export const reportPanelSchema = z.object({
	report_id: z.string(),
	type: z.string(),
	status: z.enum(["queued", "running", "completed", "failed"]),
	progress: fraction,
	chunks_done: z.number().int(),
	chunks_total: z.number().int(),
	error: z.string().nullable(),
	created_at: time,
	finished_at: time,
	result: z
		.object({
			rows: z.number().int().nullable(),
			bytes: z.number().int().nullable(),
			json: z.string(),
			csv: z.string(),
		})
		.nullable()
		.describe("Links to the result, once completed."),
});

export const panelsSchema = z
	.object({
		campaigns: z.array(campaignPanelSchema).describe("The 8 most recently changed campaigns."),
		recordings: z.array(pipelinePanelSchema).describe("The 5 newest recordings with their stage graph."),
		webhooks: z.array(endpointPanelSchema).describe("The first 10 endpoints with their last day's health."),
		reports: z.array(reportPanelSchema).describe("The 8 newest reports."),
	})
	.describe("Tenant feature panels; empty lists for the platform.");

export type Panels = z.output<typeof panelsSchema>;
