import { Hono } from "hono";
import { z } from "zod";
import { endUserAuth } from "../accounts/middleware";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { findProfile, follow, listFollows, unfollow, updateProfile } from "./db";
import type { ProfileRow } from "./db";
import { SOCIAL_LIMITS, cursorSchema, encodeCursor } from "./domain";
import { socialDocs } from "./openapi";

export const idParam = z.object({ id: z.string().min(1).max(64) });
export const pageQuery = z
	.object({
		limit: z.coerce.number().int().min(1).max(SOCIAL_LIMITS.maxPage).default(SOCIAL_LIMITS.defaultPage),
		cursor: cursorSchema.optional(),
	})
	.strict();
const profileBody = z
	.object({ display_name: z.string().trim().min(1).max(64).nullable(), bio: z.string().max(500).nullable() })
	.partial()
	.strict();

/** Profiles and follows, mounted at /api/v1/users. `{id}` is an accounts user id of the caller's tenant. */
export const socialUserRoutes = new Hono<AppEnv>()
	.get("/:id", socialDocs.getUser, endUserAuth(), validate("param", idParam), async (c) => {
		const { tenantId } = c.get("endUser");
		return c.json(profileJson(await requireUser(c.env.DB, tenantId, c.req.valid("param").id)));
	})
	.put(
		"/:id",
		socialDocs.putUser,
		endUserAuth(),
		validate("param", idParam),
		validate("json", profileBody),
		async (c) => {
			const { tenantId, userId } = c.get("endUser");
			const { id } = c.req.valid("param");
			await requireUser(c.env.DB, tenantId, id);
			if (id !== userId) throw new AppError(403, "forbidden", "Only the user edits their own profile.");
			await updateProfile(c.env.DB, tenantId, id, c.req.valid("json"), Date.now());
			return c.json(profileJson(await requireUser(c.env.DB, tenantId, id)));
		},
	)
	.get(
		"/:id/followers",
		socialDocs.followers,
		endUserAuth(),
		validate("param", idParam),
		validate("query", pageQuery),
		(c) =>
			followPage(c.env.DB, c.get("endUser").tenantId, c.req.valid("param").id, "followers", c.req.valid("query")).then(
				(page) => c.json(page),
			),
	)
	.get(
		"/:id/following",
		socialDocs.following,
		endUserAuth(),
		validate("param", idParam),
		validate("query", pageQuery),
		(c) =>
			followPage(c.env.DB, c.get("endUser").tenantId, c.req.valid("param").id, "following", c.req.valid("query")).then(
				(page) => c.json(page),
			),
	)
	.post("/:id/follow", socialDocs.follow, endUserAuth(), validate("param", idParam), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const { id } = c.req.valid("param");
		if (id === userId) throw new AppError(422, "cannot_follow_self", "A user cannot follow themself.");
		await requireUser(c.env.DB, tenantId, id);
		await follow(c.env.DB, tenantId, userId, id, Date.now());
		return c.json({ user_id: id, following: true });
	})
	.delete("/:id/follow", socialDocs.unfollow, endUserAuth(), validate("param", idParam), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const { id } = c.req.valid("param");
		await requireUser(c.env.DB, tenantId, id);
		await unfollow(c.env.DB, tenantId, userId, id);
		return c.json({ user_id: id, following: false });
	});

/** The user of the caller's tenant, or 404 (another tenant's user is a 404 too). */
export async function requireUser(db: D1Database, tenantId: string, id: string): Promise<ProfileRow> {
	const profile = await findProfile(db, tenantId, id);
	if (!profile) throw new AppError(404, "not_found", `No user '${id}'.`);
	return profile;
}

async function followPage(
	db: D1Database,
	tenantId: string,
	id: string,
	side: "followers" | "following",
	q: z.infer<typeof pageQuery>,
) {
	await requireUser(db, tenantId, id);
	const rows = await listFollows(db, tenantId, id, side, q.cursor ?? null, q.limit + 1);
	const page = rows.slice(0, q.limit);
	const last = page.at(-1);
	return {
		users: page,
		next_cursor: rows.length > q.limit && last ? encodeCursor({ at: last.created_at, id: last.user_id }) : null,
	};
}

function profileJson(p: ProfileRow) {
	return {
		id: p.user_id,
		username: p.username,
		display_name: p.display_name,
		bio: p.bio,
		followers_count: p.followers_count,
		following_count: p.following_count,
		posts_count: p.posts_count,
	};
}
