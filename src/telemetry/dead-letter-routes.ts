import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import type { DeadLetterRow } from "../platform/dead-letters-db";
import { findDeadLetter, listDeadLetters, markReplayed } from "../platform/dead-letters-db";
import { replayFeedMessage } from "../social/service";
import { telemetryMessageSchema } from "./domain";
import { AppError } from "../platform/errors";
import { adminAuth } from "../gateway/tenants/admin-auth";
import { laneOf } from "./lanes";
import { validate } from "../platform/validation";
import { deadLetterDocs } from "./openapi";

/** The queues whose dead letters operators see and replay here (the shortener's are its tenants'). */
const DEAD_LETTER_QUEUES = ["floodgate-telemetry", "floodgate-feed"] as const;

const idParams = z.object({ id: z.string().regex(/^dl_[0-9a-f]{24}$/, "not a dead-letter id") });
const listQuery = z.object({
	status: z.enum(["pending", "replayed", "all"]).default("pending"),
	tenant_id: z
		.string()
		.regex(/^ten_[0-9a-f]{24}$/, "not a tenant id")
		.optional(),
	queue: z.enum(DEAD_LETTER_QUEUES).optional(),
	limit: z.coerce.number().int().min(1).max(200).default(50),
	// "<created_at>_<id>" of the last row of the previous page.
	cursor: z
		.string()
		.regex(/^\d{1,16}_dl_[0-9a-f]{24}$/, "a cursor from next_cursor")
		.transform((v) => ({ createdAt: Number(v.slice(0, v.indexOf("_"))), id: v.slice(v.indexOf("_") + 1) }))
		.optional(),
});

/**
 * Operators' view of queue messages that kept failing (telemetry's, and the feed's), and their
 * replay into the queue each came from.
 */
export const deadLetterRoutes = new Hono<AppEnv>()
	.use(adminAuth())
	.get("/", deadLetterDocs.list, validate("query", listQuery), async (c) => {
		const q = c.req.valid("query");
		const rows = await listDeadLetters(c.env.DB, {
			status: q.status,
			tenantId: q.tenant_id ?? null,
			queue: q.queue ?? null,
			limit: q.limit,
			before: q.cursor ?? null,
		});
		const last = rows.at(-1);
		return c.json({
			dead_letters: rows.map(letterJson),
			next_cursor: rows.length === q.limit && last ? `${last.created_at}_${last.id}` : null,
		});
	})
	.post("/:id/replay", deadLetterDocs.replay, validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const row = await findDeadLetter(c.env.DB, id);
		if (!row) throw new AppError(404, "not_found", `No dead letter ${id}.`);
		if (row.replayed_at !== null)
			throw new AppError(
				409,
				"already_replayed",
				`Dead letter ${id} was replayed already; it returns here if it fails again.`,
			);
		// Sent before it is marked: a crash in between leaves it pending, and a second replay is
		// harmless because each consumer's writes are idempotent by the message's own keys.
		if (!(await sendBack(c.env, row)))
			throw new AppError(
				422,
				"not_replayable",
				`Dead letter ${id} is not a valid ${row.queue} message (${row.reason}); it cannot be replayed.`,
			);
		const updated = await markReplayed(c.env.DB, id, Date.now());
		if (!updated) throw new AppError(409, "already_replayed", `Dead letter ${id} was replayed meanwhile.`);
		return c.json(letterJson(updated), 202);
	});

/** Sends a dead letter's body back to its queue; false when it is not a valid message of that queue. */
async function sendBack(env: Env, row: DeadLetterRow): Promise<boolean> {
	const body: unknown = JSON.parse(row.body);
	if (row.queue === "floodgate-feed") return replayFeedMessage(env, body);
	const parsed = telemetryMessageSchema.safeParse(body);
	if (!parsed.success) return false;
	const queue = laneOf(parsed.data) === "backfill" ? env.TELEMETRY_BACKFILL_QUEUE : env.TELEMETRY_QUEUE;
	await queue.send(parsed.data, { contentType: "json" });
	return true;
}

function letterJson(r: DeadLetterRow) {
	return {
		id: r.id,
		queue: r.queue,
		message_id: r.message_id,
		tenant_id: r.tenant_id,
		kind: r.kind,
		updates: r.update_count,
		reason: r.reason,
		attempts: r.attempts,
		created_at: new Date(r.created_at).toISOString(),
		replayed_at: r.replayed_at === null ? null : new Date(r.replayed_at).toISOString(),
		replay_count: r.replay_count,
		body: JSON.parse(r.body) as unknown,
	};
}
