import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { ACCOUNT_LIMITS, SESSION_ID_PATTERN, decodeSessionCursor, encodeSessionCursor } from "./domain";
import { endUserAuth } from "./middleware";
import { accountDocs } from "./openapi";
import { forgetSession } from "./service";
import { listLiveSessions, revokeSession } from "./sessions-db";

const listQuery = z
	.object({
		cursor: z
			.string()
			.regex(/^\d{1,16}\.ses_[0-9a-f]{24}$/, "a cursor from next_cursor")
			.optional(),
		limit: z.coerce.number().int().min(1).max(ACCOUNT_LIMITS.maxSessionsPage).default(20),
	})
	.strict();
/** Any segment: an id that could never exist is a 404 like another user's, not a 400. */
const idParams = z.object({ id: z.string().max(64) });

/** The end user's own sessions: list and revoke. Another user's or tenant's session is a 404. */
export const sessionRoutes = new Hono<AppEnv>()
	.get("/", accountDocs.sessions, endUserAuth(), validate("query", listQuery), async (c) => {
		const { tenantId, userId, sessionId } = c.get("endUser");
		const { cursor, limit } = c.req.valid("query");
		const now = Date.now();
		const rows = await listLiveSessions(
			c.env.DB,
			tenantId,
			userId,
			cursor ? decodeSessionCursor(cursor) : null,
			limit + 1,
			now,
		);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			sessions: page.map((s) => ({
				id: s.id,
				created_at: s.created_at,
				last_used_at: s.last_used_at,
				expires_at: s.expires_at,
				user_agent: s.user_agent,
				ip: s.ip,
				current: s.id === sessionId,
			})),
			next_cursor: rows.length > limit && last ? encodeSessionCursor(last.created_at, last.id) : null,
		});
	})
	.delete("/:id", accountDocs.revokeSession, endUserAuth(), validate("param", idParams), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const { id } = c.req.valid("param");
		if (
			!SESSION_ID_PATTERN.test(id) ||
			!(await revokeSession(c.env.DB, tenantId, userId, id, "revoked_by_user", Date.now()))
		)
			throw new AppError(404, "not_found", `No live session '${id}' of this user.`);
		forgetSession(tenantId, id);
		return c.json({ id, revoked: true as const });
	});
