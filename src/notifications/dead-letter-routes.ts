import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import type { DeliveryRow } from "./db";
import { listFailedDeliveries } from "./dead-letters-db";
import { replayDeadLetter } from "./dead-letters";
import { notificationDocs } from "./openapi";

const idParams = z.object({ id: z.string().regex(/^ndl_[0-9a-f]{24}$/, "a notification delivery id") });
const listQuery = z.object({
	limit: z.coerce.number().int().min(1).max(100).default(50),
	// "<updated_at>_<id>" of the last row of the previous page.
	cursor: z
		.string()
		.regex(/^\d{1,16}_ndl_[0-9a-f]{24}$/, "a cursor from next_cursor")
		.transform((v) => ({ updatedAt: Number(v.slice(0, v.indexOf("_"))), id: v.slice(v.indexOf("_") + 1) }))
		.optional(),
});

/** A tenant's notification dead letters (failed deliveries): list, replay one. Mounted before /:id. */
export const notificationDeadLetterRoutes = new Hono<AppEnv>()
	.get("/dead-letters", notificationDocs.deadLetters, validate("query", listQuery), async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const rows = await listFailedDeliveries(c.env.DB, c.get("principal").tenantId, cursor ?? null, limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			dead_letters: page.map(letterJson),
			next_cursor: rows.length > limit && last ? `${last.updated_at}_${last.id}` : null,
		});
	})
	.post("/dead-letters/:id/replay", notificationDocs.replayDeadLetter, validate("param", idParams), async (c) => {
		const row = await replayDeadLetter(c.env, c.get("principal").tenantId, c.req.valid("param").id);
		if (row.status !== "queued") throw new AppError(409, "not_a_dead_letter", "The delivery moved on meanwhile.");
		return c.json(letterJson(row), 202);
	});

export function letterJson(d: DeliveryRow) {
	return {
		delivery_id: d.id,
		notification_id: d.notification_id,
		channel: d.channel,
		status: d.status,
		attempts: d.attempts,
		reason: d.reason,
		last_error: d.last_error,
		updated_at: new Date(d.updated_at).toISOString(),
	};
}
