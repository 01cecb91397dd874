import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { validate } from "../platform/validation";
import type { DeadLetterRow } from "../platform/dead-letters-db";
import { listDeadLetters } from "../platform/dead-letters-db";
import { CLICKS_QUEUE_NAME } from "./dead-letters-db";
import { replayClickDeadLetter } from "./dead-letters";
import { deadLetterDocs } from "./openapi";

const idParams = z.object({ id: z.string().regex(/^dl_[0-9a-f]{24}$/, "a dead-letter id") });
const listQuery = z.object({
	status: z.enum(["pending", "replayed", "all"]).default("pending"),
	limit: z.coerce.number().int().min(1).max(100).default(50),
	// "<created_at>_<id>" of the last row of the previous page.
	cursor: z
		.string()
		.regex(/^\d{1,16}_dl_[0-9a-f]{24}$/, "a cursor from next_cursor")
		.transform((v) => ({ createdAt: Number(v.slice(0, v.indexOf("_"))), id: v.slice(v.indexOf("_") + 1) }))
		.optional(),
});

/** A tenant's click dead letters (floodgate-clicks messages that kept failing): list, replay one. */
export const clickDeadLetterRoutes = new Hono<AppEnv>()
	.get("/dead-letters", deadLetterDocs.list, validate("query", listQuery), async (c) => {
		const { status, limit, cursor } = c.req.valid("query");
		const tenantId = c.get("principal").tenantId;
		const rows = await listDeadLetters(c.env.DB, {
			status,
			tenantId,
			queue: CLICKS_QUEUE_NAME,
			before: cursor ?? null,
			limit: limit + 1,
		});
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			dead_letters: page.map(letterJson),
			next_cursor: rows.length > limit && last ? `${last.created_at}_${last.id}` : null,
		});
	})
	.post("/dead-letters/:id/replay", deadLetterDocs.replay, validate("param", idParams), async (c) => {
		const row = await replayClickDeadLetter(c.env, c.get("principal").tenantId, c.req.valid("param").id);
		return c.json(letterJson(row), 202);
	});

function letterJson(r: DeadLetterRow) {
	return {
		id: r.id,
		queue: "floodgate-clicks",
		clicks: r.update_count,
		reason: r.reason,
		attempts: r.attempts,
		created_at: new Date(r.created_at).toISOString(),
		replayed_at: r.replayed_at === null ? null : new Date(r.replayed_at).toISOString(),
		replay_count: r.replay_count,
		body: JSON.parse(r.body) as unknown,
	};
}
