import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { CAMPAIGN_STATUSES, SUBSCRIBER_STATUSES } from "./domain";

/** Campaigns' answers as schemas and their routes' OpenAPI descriptions. */

const epochMs = z.number().int().describe("Milliseconds since the epoch.");
export const listSchema = z
	.object({
		list_id: z.string(),
		name: z.string(),
		created_at: epochMs,
		counts: z.record(z.enum(SUBSCRIBER_STATUSES), z.number().int()).describe("Subscribers by status."),
	})
	.meta({ id: "EmailList" });
export const subscriberSchema = z
	.object({
		subscriber_id: z.number().int(),
		email: z.string(),
		first_name: z.string(),
		last_name: z.string(),
		status: z.enum(SUBSCRIBER_STATUSES),
		created_at: epochMs,
		updated_at: epochMs,
	})
	.meta({ id: "EmailSubscriber" });
export const campaignSchema = z
	.object({
		campaign_id: z.string(),
		name: z.string(),
		list_id: z.string(),
		from: z.string(),
		subject: z.string(),
		text: z.string(),
		html: z.string().nullable(),
		status: z.enum(CAMPAIGN_STATUSES),
		total: z.number().int(),
		sent: z.number().int(),
		failed: z.number().int().describe("Failed for good (dead letters: see /dead-letters)."),
		bounced: z.number().int(),
		suppressed: z.number().int(),
		progress: z.number().describe("0–1: recipients done (sent, failed, bounced, suppressed) / total."),
		rate: z.number().describe("Recipients per second since the start."),
		eta: epochMs.nullable().describe("Expected finish while sending."),
		last_error: z.string().nullable().describe("Why the chain last backed off (provider throttling or down)."),
		created_at: epochMs,
		started_at: epochMs.nullable(),
		finished_at: epochMs.nullable(),
	})
	.meta({ id: "EmailCampaign" });
const deadLetterSchema = z.object({
	subscriber_id: z.number().int(),
	email: z.string(),
	attempts: z.number().int(),
	reason: z.string().nullable(),
	failed_at: epochMs,
});

const tagged = (tag: string) => (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: [tag], access: "tenant", ...doc }));
const lists = tagged("Email lists");
const campaigns = tagged("Email campaigns");

export const listDocs = {
	create: lists({ summary: "Create a list", ok: { 201: listSchema } }),
	list: lists({
		summary: "The tenant's lists",
		ok: { 200: z.object({ lists: z.array(listSchema), next_cursor: z.string().nullable() }) },
	}),
	get: lists({ summary: "One list with its subscriber counts by status", ok: { 200: listSchema }, errors: [404] }),
	importSubscribers: lists({
		summary: "Import up to 10,000 subscribers (JSON rows or CSV text), idempotent by address, in one transaction",
		ok: {
			200: z.object({
				imported: z.number().int(),
				invalid: z.array(z.object({ row: z.number().int(), email: z.string().nullable(), message: z.string() })),
			}),
		},
		errors: [404],
	}),
	subscribers: lists({
		summary: "A list's subscribers",
		ok: { 200: z.object({ subscribers: z.array(subscriberSchema), next_cursor: z.string().nullable() }) },
		errors: [404],
	}),
	getSubscriber: lists({ summary: "One subscriber", ok: { 200: subscriberSchema }, errors: [404] }),
	deleteSubscriber: lists({
		summary: "Delete a subscriber (never sent to again by a running campaign)",
		ok: { 204: { description: "Deleted." } },
		errors: [404],
	}),
};

export const campaignDocs = {
	create: campaigns({
		summary: "Create a draft campaign (mustache templates)",
		ok: { 201: campaignSchema },
		errors: [404],
	}),
	list: campaigns({
		summary: "The tenant's campaigns",
		ok: { 200: z.object({ campaigns: z.array(campaignSchema), next_cursor: z.string().nullable() }) },
	}),
	get: campaigns({ summary: "Status, counters, progress, rate and ETA", ok: { 200: campaignSchema }, errors: [404] }),
	update: campaigns({ summary: "Edit a draft", ok: { 200: campaignSchema }, errors: [404, 409] }),
	remove: campaigns({
		summary: "Delete a draft or cancelled campaign",
		ok: { 204: { description: "Deleted." } },
		errors: [404, 409],
	}),
	verb: (summary: string) => campaigns({ summary, ok: { 202: campaignSchema }, errors: [404, 409, 422] }),
	events: campaigns({
		summary: "Progress as server-sent events (`progress`, then `end` once finished)",
		ok: { 200: { description: "An event stream.", content: { "text/event-stream": { schema: { type: "string" } } } } },
		errors: [404],
	}),
	deadLetters: campaigns({
		summary: "Recipients that failed for good, with the reason",
		ok: { 200: z.object({ dead_letters: z.array(deadLetterSchema), next_cursor: z.string().nullable() }) },
		errors: [404],
	}),
	retryDeadLetters: campaigns({
		summary: "Retry up to 10,000 dead letters (the campaign resumes sending)",
		ok: { 202: z.object({ retried: z.number().int(), campaign: campaignSchema }) },
		errors: [404],
	}),
};
