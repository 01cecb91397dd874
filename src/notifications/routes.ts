import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { checkTemplate } from "./domain";
import type { DeliveryRow } from "./db";
import { deliveriesOf, findNotification, findTemplate, listSandboxSms, upsertPreferences, upsertTemplate } from "./db";
import { notificationDocs } from "./openapi";
import { channelContentSchema, preferencesSchema, sendBody, templateBody, userIdSchema } from "./schemas";
import { loadPreferences, sendNotification } from "./service";

const keyParams = z.object({ key: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, "a template key") });
const idParams = z.object({ id: z.string().regex(/^ntf_[0-9a-f]{24}$/, "a notification id") });
const userParams = z.object({ userId: userIdSchema });
const itemParams = userParams.extend({ id: idParams.shape.id });
const pageQuery = z.object({
	limit: z.coerce.number().int().min(1).max(100).default(50),
	cursor: z.string().max(200).optional(),
});
const iso = (ms: number) => new Date(ms).toISOString();

/** Templates, sending and status, preferences, the SMS sandbox. Fixed paths before /:id. */
export const notificationRoutes = new Hono<AppEnv>()
	.put(
		"/templates/:key",
		notificationDocs.putTemplate,
		validate("param", keyParams),
		validate("json", templateBody),
		async (c) => {
			const { category, channels } = c.req.valid("json");
			try {
				checkTemplate(channels);
			} catch (err) {
				throw new AppError(
					400,
					"invalid_template",
					`A template does not parse: ${err instanceof Error ? err.message : String(err)}`,
				);
			}
			const now = Date.now();
			const row = {
				tenant_id: c.get("principal").tenantId,
				key: c.req.valid("param").key,
				category,
				channels: JSON.stringify(channels),
				updated_at: now,
			};
			await upsertTemplate(c.env.DB, row);
			return c.json({ key: row.key, category, channels, updated_at: iso(now) });
		},
	)
	.get("/templates/:key", notificationDocs.getTemplate, validate("param", keyParams), async (c) => {
		const { key } = c.req.valid("param");
		const row = await findTemplate(c.env.DB, c.get("principal").tenantId, key);
		if (!row) throw new AppError(404, "template_not_found", `No notification template '${key}'.`);
		const channels = channelContentSchema.parse(JSON.parse(row.channels));
		return c.json({ key: row.key, category: row.category, channels, updated_at: iso(row.updated_at) });
	})
	.get("/sms-sandbox", notificationDocs.smsSandbox, validate("query", pageQuery), async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const after = cursor === undefined ? null : decodeCursor(cursor);
		if (cursor !== undefined && after === null) throw badCursor();
		const rows = await listSandboxSms(c.env.DB, c.get("principal").tenantId, limit + 1, after);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			messages: page.map((r) => ({
				idempotency_key: r.idempotency_key,
				to: r.to_phone,
				text: r.text,
				created_at: iso(r.created_at),
			})),
			next_cursor: rows.length > limit && last ? `${last.created_at}:${last.idempotency_key}` : null,
		});
	})
	.get("/users/:userId/preferences", notificationDocs.getPreferences, validate("param", userParams), async (c) => {
		return c.json(await loadPreferences(c.env, c.get("principal").tenantId, c.req.valid("param").userId));
	})
	.put(
		"/users/:userId/preferences",
		notificationDocs.putPreferences,
		validate("param", userParams),
		validate("json", preferencesSchema),
		async (c) => {
			const prefs = c.req.valid("json");
			await upsertPreferences(
				c.env.DB,
				c.get("principal").tenantId,
				c.req.valid("param").userId,
				JSON.stringify(prefs),
				Date.now(),
			);
			return c.json(prefs);
		},
	)
	.post("/", notificationDocs.send, validate("json", sendBody), async (c) => {
		const sent = await sendNotification(c.env, c.get("principal").tenantId, c.req.valid("json"));
		return c.json({ notification_id: sent.notificationId, duplicate: sent.duplicate }, 202);
	})
	.get("/:id", notificationDocs.get, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		const row = await findNotification(c.env.DB, tenantId, id);
		if (!row) throw new AppError(404, "notification_not_found", `No notification '${id}'.`);
		const deliveries = await deliveriesOf(c.env.DB, tenantId, id);
		return c.json({
			notification_id: row.id,
			user_id: row.user_id,
			template: row.template_key,
			category: row.category,
			priority: row.priority,
			created_at: iso(row.created_at),
			channels: deliveries.map(channelJson),
		});
	});

/** A user's in-app inbox: list with unread count, mark read, mark all read, live stream. */
export const inboxRoutes = new Hono<AppEnv>()
	.get(
		"/users/:userId/inbox",
		notificationDocs.inbox,
		validate("param", userParams),
		validate("query", pageQuery),
		async (c) => {
			const { limit, cursor } = c.req.valid("query");
			if (cursor !== undefined && decodeCursor(cursor) === null) throw badCursor();
			const page = await inbox(c.env, c.get("principal").tenantId, c.req.valid("param").userId).list(
				limit,
				cursor ?? null,
			);
			const items = page.items.map((i) => ({
				...i,
				created_at: iso(i.created_at),
				read_at: i.read_at === null ? null : iso(i.read_at),
			}));
			return c.json({ items, unread: page.unread, next_cursor: page.next_cursor });
		},
	)
	.post("/users/:userId/inbox/read-all", notificationDocs.markAllRead, validate("param", userParams), async (c) => {
		const marked = await inbox(c.env, c.get("principal").tenantId, c.req.valid("param").userId).markAllRead();
		return c.json({ marked });
	})
	.post("/users/:userId/inbox/:id/read", notificationDocs.markRead, validate("param", itemParams), async (c) => {
		const { userId, id } = c.req.valid("param");
		const box = inbox(c.env, c.get("principal").tenantId, userId);
		if (!(await box.markRead(id))) throw new AppError(404, "inbox_item_not_found", `No inbox item '${id}'.`);
		return c.json({ unread: (await box.list(1, null)).unread });
	})
	.get("/users/:userId/inbox/stream", notificationDocs.stream, validate("param", userParams), async (c) => {
		return inbox(c.env, c.get("principal").tenantId, c.req.valid("param").userId).fetch(c.req.raw);
	});

function inbox(env: Env, tenantId: string, userId: string) {
	return env.NOTIFICATION_INBOX.getByName(`${tenantId}:${userId}`);
}

function channelJson(d: DeliveryRow) {
	return {
		channel: d.channel,
		status: d.status,
		attempts: d.attempts,
		deliver_at: iso(d.deliver_at),
		reason: d.reason,
		last_error: d.last_error,
		digest_id: d.digest_id,
	};
}

function decodeCursor(cursor: string): { createdAt: number; key: string } | null {
	const at = cursor.indexOf(":");
	const createdAt = Number(cursor.slice(0, at));
	if (at < 1 || !Number.isSafeInteger(createdAt)) return null;
	return { createdAt, key: cursor.slice(at + 1) };
}

function badCursor(): AppError {
	return new AppError(400, "invalid_cursor", "The cursor is not one this list returned.");
}
