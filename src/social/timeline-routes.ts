import { Hono } from "hono";
import { z } from "zod";
import { endUserAuth } from "../accounts/middleware";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { SOCIAL_LIMITS, cursorSchema, encodeCursor, settingsSchema, topCursorSchema } from "./domain";
import { markStreamOpen } from "./feed-db";
import { socialDocs } from "./openapi";
import { postsPage } from "./post-routes";
import { feedSettings, readHome, saveFeedSettings } from "./service";
import { idParam, pageQuery } from "./user-routes";

const homeQuery = z
	.object({
		ranking: z.enum(["latest", "top"]).default("latest"),
		limit: z.coerce.number().int().min(1).max(SOCIAL_LIMITS.maxPage).default(SOCIAL_LIMITS.defaultPage),
		cursor: z.union([topCursorSchema, cursorSchema]).optional(),
	})
	.strict();
const streamQuery = z.object({ seconds: z.coerce.number().int().min(1).max(300).default(60) }).strict();

/** Timelines, mounted at /api/v1/timeline. */
export const timelineRoutes = new Hono<AppEnv>()
	.get("/home", socialDocs.home, endUserAuth(), validate("query", homeQuery), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const q = c.req.valid("query");
		const { posts, next } = await readHome(c.env.DB, tenantId, userId, {
			ranking: q.ranking,
			limit: q.limit,
			after: typeof q.cursor === "object" ? q.cursor : null,
			offset: typeof q.cursor === "number" ? q.cursor : 0,
		});
		return c.json({
			posts: posts.map(({ affinity: _affinity, ...post }) => post),
			next_cursor: next === null ? null : typeof next === "number" ? `top.${next}` : encodeCursor(next),
		});
	})
	.get("/home/stream", socialDocs.homeStream, endUserAuth(), validate("query", streamQuery), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const { seconds } = c.req.valid("query");
		const now = Date.now();
		await markStreamOpen(c.env.DB, tenantId, userId, now + seconds * 1000, now);
		const stub = c.env.FEED_STREAM.getByName(`${tenantId}:${userId}`);
		const res = await stub.fetch(`https://feed-stream/subscribe?seconds=${seconds}`);
		if (res.status === 429) throw new AppError(429, "too_many_streams", "This user already has 5 open home streams.");
		// A Durable Object's response has immutable headers; the platform's middleware adds its own.
		return new Response(res.body, { status: res.status, headers: new Headers(res.headers) });
	})
	.get(
		"/user/:id",
		socialDocs.userTimeline,
		endUserAuth(),
		validate("param", idParam),
		validate("query", pageQuery),
		async (c) =>
			c.json(await postsPage(c.env.DB, c.get("endUser").tenantId, c.req.valid("param").id, c.req.valid("query"))),
	);

/** The tenant's feed settings, mounted at /api/v1/social/settings behind tenantApi (API key). */
export const socialSettingsRoutes = new Hono<AppEnv>()
	.get("/", socialDocs.getSettings, async (c) => c.json(await feedSettings(c.env.DB, c.get("principal").tenantId)))
	.put("/", socialDocs.putSettings, validate("json", settingsSchema), async (c) => {
		const settings = c.req.valid("json");
		await saveFeedSettings(c.env.DB, c.get("principal").tenantId, settings);
		return c.json(settings);
	});
