import { Hono } from "hono";
import { z } from "zod";
import { endUserAuth } from "../accounts/middleware";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { SOCIAL_LIMITS, encodeCursor } from "./domain";
import { socialDocs } from "./openapi";
import {
	deleteComment,
	deletePost,
	findComment,
	findPost,
	insertComment,
	listComments,
	listLikes,
	listPostsBy,
	setLike,
	updatePostBody,
} from "./posts-db";
import type { PostRow } from "./posts-db";
import { createPost } from "./service";
import { idParam, pageQuery, requireUser } from "./user-routes";

const postBody = z.object({ body: z.string().trim().min(1).max(SOCIAL_LIMITS.maxPostChars) }).strict();
const commentBody = z.object({ body: z.string().trim().min(1).max(SOCIAL_LIMITS.maxCommentChars) }).strict();
const listQuery = pageQuery.extend({ user_id: z.string().min(1).max(64).optional() });

/** Posts, likes and comments, mounted at /api/v1/posts. Only a post's author edits or deletes it. */
export const postRoutes = new Hono<AppEnv>()
	.get("/", socialDocs.listPosts, endUserAuth(), validate("query", listQuery), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const q = c.req.valid("query");
		return c.json(await postsPage(c.env.DB, tenantId, q.user_id ?? userId, q));
	})
	.post("/", socialDocs.createPost, endUserAuth(), validate("json", postBody), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		return c.json(await createPost(c.env, tenantId, userId, c.req.valid("json").body), 201);
	})
	.get("/:id", socialDocs.getPost, endUserAuth(), validate("param", idParam), async (c) =>
		c.json(await requirePost(c.env.DB, c.get("endUser").tenantId, c.req.valid("param").id)),
	)
	.put("/:id", socialDocs.putPost, endUserAuth(), validate("param", idParam), validate("json", postBody), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const post = await requireOwnPost(c.env.DB, tenantId, c.req.valid("param").id, userId);
		const now = Date.now();
		await updatePostBody(c.env.DB, tenantId, post.id, c.req.valid("json").body, now);
		return c.json({ ...post, body: c.req.valid("json").body, updated_at: now });
	})
	.delete("/:id", socialDocs.deletePost, endUserAuth(), validate("param", idParam), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const post = await requireOwnPost(c.env.DB, tenantId, c.req.valid("param").id, userId);
		await deletePost(c.env.DB, tenantId, post.id, userId);
		return c.body(null, 204);
	})
	.post("/:id/like", socialDocs.like, endUserAuth(), validate("param", idParam), async (c) =>
		c.json(await setLikeOf(c.env.DB, c.get("endUser"), c.req.valid("param").id, true)),
	)
	.delete("/:id/like", socialDocs.unlike, endUserAuth(), validate("param", idParam), async (c) =>
		c.json(await setLikeOf(c.env.DB, c.get("endUser"), c.req.valid("param").id, false)),
	)
	.get(
		"/:id/likes",
		socialDocs.likes,
		endUserAuth(),
		validate("param", idParam),
		validate("query", pageQuery),
		async (c) => {
			const { tenantId } = c.get("endUser");
			const { id } = c.req.valid("param");
			const q = c.req.valid("query");
			await requirePost(c.env.DB, tenantId, id);
			const rows = await listLikes(c.env.DB, tenantId, id, q.cursor ?? null, q.limit + 1);
			const page = rows.slice(0, q.limit);
			const last = page.at(-1);
			const next = rows.length > q.limit && last ? encodeCursor({ at: last.created_at, id: last.user_id }) : null;
			return c.json({ likes: page, next_cursor: next });
		},
	)
	.post(
		"/:id/comments",
		socialDocs.comment,
		endUserAuth(),
		validate("param", idParam),
		validate("json", commentBody),
		async (c) => {
			const { tenantId, userId } = c.get("endUser");
			const { id } = c.req.valid("param");
			const comment = {
				id: newId("cmt"),
				post_id: id,
				author_id: userId,
				body: c.req.valid("json").body,
				created_at: Date.now(),
			};
			if (!(await insertComment(c.env.DB, tenantId, comment))) throw notFound(id);
			return c.json(comment, 201);
		},
	)
	.get(
		"/:id/comments",
		socialDocs.comments,
		endUserAuth(),
		validate("param", idParam),
		validate("query", pageQuery),
		async (c) => {
			const { tenantId } = c.get("endUser");
			const { id } = c.req.valid("param");
			const q = c.req.valid("query");
			await requirePost(c.env.DB, tenantId, id);
			const rows = await listComments(c.env.DB, tenantId, id, q.cursor ?? null, q.limit + 1);
			const page = rows.slice(0, q.limit);
			const last = page.at(-1);
			const next = rows.length > q.limit && last ? encodeCursor({ at: last.created_at, id: last.id }) : null;
			return c.json({ comments: page, next_cursor: next });
		},
	);

/** DELETE /api/v1/comments/{id}: only the comment's author. */
export const commentRoutes = new Hono<AppEnv>().delete(
	"/:id",
	socialDocs.deleteComment,
	endUserAuth(),
	validate("param", idParam),
	async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const { id } = c.req.valid("param");
		const comment = await findComment(c.env.DB, tenantId, id);
		if (!comment) throw new AppError(404, "not_found", `No comment '${id}'.`);
		if (comment.author_id !== userId) throw new AppError(403, "forbidden", "Only the author deletes a comment.");
		await deleteComment(c.env.DB, tenantId, comment);
		return c.body(null, 204);
	},
);

/** A user's posts, newest first (also GET /timeline/user/{id}). */
export async function postsPage(db: D1Database, tenantId: string, authorId: string, q: z.infer<typeof pageQuery>) {
	await requireUser(db, tenantId, authorId);
	const rows = await listPostsBy(db, tenantId, authorId, q.cursor ?? null, q.limit + 1);
	const page = rows.slice(0, q.limit);
	const last = page.at(-1);
	return {
		posts: page,
		next_cursor: rows.length > q.limit && last ? encodeCursor({ at: last.created_at, id: last.id }) : null,
	};
}

/** POST (liked) or DELETE /posts/{id}/like: one path for both, 404 when the tenant has no such post. */
async function setLikeOf(db: D1Database, user: { tenantId: string; userId: string }, id: string, liked: boolean) {
	const count = await setLike(db, user.tenantId, id, user.userId, liked, Date.now());
	if (count === null) throw notFound(id);
	return { post_id: id, liked, like_count: count };
}

async function requirePost(db: D1Database, tenantId: string, id: string): Promise<PostRow> {
	const post = await findPost(db, tenantId, id);
	if (!post) throw notFound(id);
	return post;
}

async function requireOwnPost(db: D1Database, tenantId: string, id: string, userId: string): Promise<PostRow> {
	const post = await requirePost(db, tenantId, id);
	if (post.author_id !== userId) throw new AppError(403, "forbidden", "Only the author edits or deletes a post.");
	return post;
}

function notFound(id: string): AppError {
	return new AppError(404, "not_found", `No post '${id}'.`);
}
