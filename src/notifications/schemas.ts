import { z } from "zod";
import { CHANNELS, PRIORITIES } from "./domain";

/** Notifications' input schemas (request bodies, stored JSON, queue messages). */

const field = z.string().min(1).max(20_000);
export const channelContentSchema = z
	.object({
		email: z
			.object({ subject: z.string().min(1).max(1_000), text: field, html: field.optional() })
			.strict()
			.optional(),
		push: z
			.object({ title: z.string().min(1).max(500), body: z.string().min(1).max(2_000) })
			.strict()
			.optional(),
		sms: z
			.object({ text: z.string().min(1).max(1_600) })
			.strict()
			.optional(),
		in_app: z
			.object({
				title: z.string().min(1).max(500),
				body: z.string().min(1).max(5_000),
				link: z.string().max(2_000).optional(),
			})
			.strict()
			.optional(),
	})
	.strict();

export const CATEGORY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const templateBody = z
	.object({
		category: z.string().regex(CATEGORY_PATTERN).default("general"),
		channels: channelContentSchema.refine((c) => Object.keys(c).length > 0, "at least one channel"),
	})
	.strict();

export const userIdSchema = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9_.:@-]+$/, "a user id");
export const channelSchema = z.enum(CHANNELS);

export const recipientSchema = z
	.object({
		user_id: userIdSchema,
		email: z.email().max(320).optional(),
		phone: z
			.string()
			.regex(/^\+[1-9][0-9]{6,14}$/, "E.164, e.g. +14155550123")
			.optional(),
		push_subscriptions: z
			.array(
				z.object({
					endpoint: z.url().max(2_000),
					keys: z.object({ p256dh: z.string().max(200), auth: z.string().max(100) }),
				}),
			)
			.max(10)
			.optional(),
	})
	.strict();

export const sendBody = z
	.object({
		recipient: recipientSchema,
		template: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/),
		data: z.record(z.string(), z.json()).default({}),
		channels: z.array(channelSchema).min(1).max(4).optional(),
		priority: z.enum(PRIORITIES).default("normal"),
		idempotency_key: z.string().min(1).max(200).optional(),
		deliver_after: z.iso.datetime({ offset: true }).optional(),
	})
	.strict();
export type SendInput = z.infer<typeof sendBody>;

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "HH:MM");
const toggles = z.partialRecord(channelSchema, z.boolean());
export const preferencesSchema = z
	.object({
		channels: toggles.default({}),
		categories: z.record(z.string().regex(CATEGORY_PATTERN), toggles).default({}),
		quiet_hours: z
			.object({
				start: hhmm,
				end: hhmm,
				time_zone: z.string().refine(validTimeZone, "an IANA time zone, e.g. Europe/Paris"),
			})
			.strict()
			.nullable()
			.default(null),
		digests: z
			.record(
				z.string().regex(CATEGORY_PATTERN),
				z.object({ window_minutes: z.number().int().min(1).max(1_440) }).strict(),
			)
			.optional()
			.describe("Per category: collect its non-critical notifications for a window and send one digest per channel."),
	})
	.strict()
	.refine((p) => Object.keys(p.categories).length <= 100, "at most 100 categories")
	.refine((p) => Object.keys(p.digests ?? {}).length <= 100, "at most 100 digest categories");

export const notificationMessageSchema = z.object({
	kind: z.literal("attempt"),
	tenant_id: z.string().min(1).max(64),
	delivery_id: z.string().min(1).max(64),
	attempt: z.number().int().min(1).max(100),
	priority: z.enum(PRIORITIES).default("normal"),
});
export type NotificationMessage = z.infer<typeof notificationMessageSchema>;
/** A digest whose window ended, to flush (the cron sends these; the flush is idempotent). */
export const digestMessageSchema = z.object({
	kind: z.literal("digest"),
	tenant_id: z.string().min(1).max(64),
	digest_id: z.string().regex(/^dig_[0-9a-f]{24}$/),
	priority: z.enum(PRIORITIES).default("normal"),
});
export type DigestMessage = z.infer<typeof digestMessageSchema>;
export const notificationQueueMessageSchema = z.discriminatedUnion("kind", [
	notificationMessageSchema,
	digestMessageSchema,
]);

function validTimeZone(zone: string): boolean {
	try {
		return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone.length > 0;
	} catch {
		return false;
	}
}
