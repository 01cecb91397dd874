import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { channelContentSchema, preferencesSchema } from "./schemas";

/** Notifications' answers as schemas and its routes' OpenAPI descriptions. */

const isoTime = z.string().describe("ISO 8601 time.");
const templateSchema = z
	.object({ key: z.string(), category: z.string(), channels: channelContentSchema, updated_at: isoTime })
	.meta({ id: "NotificationTemplate" });
const channelStatusSchema = z
	.object({
		channel: z.enum(["email", "push", "sms", "in_app"]),
		status: z.enum(["queued", "sending", "sent", "delivered", "failed", "suppressed", "throttled", "digested"]),
		attempts: z.number().int(),
		deliver_at: isoTime.describe("When the channel is (or was) due: deliver_after, the end of quiet hours, a retry."),
		reason: z.string().nullable(),
		last_error: z.string().nullable(),
		digest_id: z
			.string()
			.nullable()
			.describe(
				"The digest that collected this channel (status digested); sent as one notification at its window's end.",
			),
	})
	.meta({ id: "NotificationChannelStatus" });
const notificationSchema = z
	.object({
		notification_id: z.string(),
		user_id: z.string(),
		template: z.string(),
		category: z.string(),
		priority: z.enum(["critical", "high", "normal", "low"]),
		created_at: isoTime,
		channels: z.array(channelStatusSchema),
	})
	.meta({ id: "Notification" });
const inboxItemSchema = z
	.object({
		id: z.string(),
		category: z.string(),
		title: z.string(),
		body: z.string(),
		link: z.string().nullable(),
		created_at: isoTime,
		read_at: isoTime.nullable(),
	})
	.meta({ id: "InboxItem" });
const deadLetterSchema = z
	.object({
		delivery_id: z.string(),
		notification_id: z.string(),
		channel: z.enum(["email", "push", "sms", "in_app"]),
		status: z.string().describe("failed in the list; queued once replayed."),
		attempts: z.number().int(),
		reason: z.string().nullable(),
		last_error: z.string().nullable(),
		updated_at: isoTime,
	})
	.meta({ id: "NotificationDeadLetter" });
const smsSchema = z.object({ idempotency_key: z.string(), to: z.string(), text: z.string(), created_at: isoTime });

const notes = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Notifications"], access: "tenant", ...doc }));

export const notificationDocs = {
	putTemplate: notes({ summary: "Create or replace a template (mustache, per channel)", ok: { 200: templateSchema } }),
	getTemplate: notes({ summary: "One template", ok: { 200: templateSchema }, errors: [404] }),
	send: notes({
		summary: "Send a notification to a user on the template's channels",
		ok: { 202: z.object({ notification_id: z.string(), duplicate: z.boolean() }) },
		errors: [404],
	}),
	get: notes({ summary: "A notification and its status per channel", ok: { 200: notificationSchema }, errors: [404] }),
	getPreferences: notes({ summary: "A user's notification preferences", ok: { 200: preferencesSchema } }),
	putPreferences: notes({ summary: "Replace a user's notification preferences", ok: { 200: preferencesSchema } }),
	inbox: notes({
		summary: "A user's in-app inbox, newest first (cursor-paginated), with the unread count",
		ok: {
			200: z.object({ items: z.array(inboxItemSchema), unread: z.number().int(), next_cursor: z.string().nullable() }),
		},
	}),
	markRead: notes({
		summary: "Mark one inbox item read",
		ok: { 200: z.object({ unread: z.number().int() }) },
		errors: [404],
	}),
	markAllRead: notes({ summary: "Mark every inbox item read", ok: { 200: z.object({ marked: z.number().int() }) } }),
	stream: notes({
		summary: "Live inbox updates (Server-Sent Events: ready, notification, unread); closes after 5 minutes",
		ok: { 200: { description: "An event stream.", content: { "text/event-stream": { schema: { type: "string" } } } } },
	}),
	deadLetters: notes({
		summary: "Failed deliveries (the dead letters), most recently failed first (cursor-paginated)",
		ok: { 200: z.object({ dead_letters: z.array(deadLetterSchema), next_cursor: z.string().nullable() }) },
	}),
	replayDeadLetter: notes({
		summary: "Replay a failed delivery: queued again with its attempts reset",
		ok: { 202: deadLetterSchema },
		errors: [404, 409],
	}),
	smsSandbox: notes({
		summary: "Messages the sandbox SMS provider recorded for this tenant, newest first (cursor-paginated)",
		ok: { 200: z.object({ messages: z.array(smsSchema), next_cursor: z.string().nullable() }) },
	}),
};
