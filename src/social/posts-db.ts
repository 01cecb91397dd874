import { bump, ensureProfile } from "./db";
import type { Keyset } from "./domain";

/** Posts, likes and comments. Counters move in the same transaction as the row, guarded by changes(). */

export type PostRow = {
	id: string;
	author_id: string;
	body: string;
	like_count: number;
	comment_count: number;
	created_at: number;
	updated_at: number;
};
export type CommentRow = { id: string; post_id: string; author_id: string; body: string; created_at: number };
export type LikeRow = { user_id: string; username: string; created_at: number };

const POST_COLUMNS = "p.id, p.author_id, p.body, p.like_count, p.comment_count, p.created_at, p.updated_at";
const NO_CURSOR: Keyset = { at: Number.MAX_SAFE_INTEGER, id: "" };

export async function insertPost(db: D1Database, tenantId: string, post: PostRow): Promise<void> {
	await db.batch([
		ensureProfile(db, tenantId, post.author_id, post.created_at),
		db
			.prepare(
				`INSERT INTO social_posts (id, tenant_id, author_id, body, like_count, comment_count, created_at, updated_at)
				 VALUES (?, ?, ?, ?, 0, 0, ?, ?)`,
			)
			.bind(post.id, tenantId, post.author_id, post.body, post.created_at, post.updated_at),
		bump(db, "posts_count", 1, tenantId, post.author_id),
		db
			.prepare(`UPDATE social_profiles SET last_active_at = ? WHERE tenant_id = ? AND user_id = ?`)
			.bind(post.created_at, tenantId, post.author_id),
	]);
}

export async function findPost(db: D1Database, tenantId: string, id: string): Promise<PostRow | null> {
	return db
		.prepare(`SELECT ${POST_COLUMNS} FROM social_posts p WHERE p.tenant_id = ? AND p.id = ?`)
		.bind(tenantId, id)
		.first<PostRow>();
}

export async function updatePostBody(db: D1Database, tenantId: string, id: string, body: string, now: number) {
	await db
		.prepare(`UPDATE social_posts SET body = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`)
		.bind(body, now, tenantId, id)
		.run();
}

/**
 * Deletes a post with its likes and comments. Feed rows pointing at it are left to the cap and
 * retention: every feed read joins social_posts, so they are never shown.
 */
export async function deletePost(db: D1Database, tenantId: string, id: string, authorId: string): Promise<void> {
	await db.batch([
		db
			.prepare(`DELETE FROM social_posts WHERE tenant_id = ? AND id = ? AND author_id = ?`)
			.bind(tenantId, id, authorId),
		bump(db, "posts_count", -1, tenantId, authorId),
		db.prepare(`DELETE FROM social_likes WHERE post_id = ?`).bind(id),
		db.prepare(`DELETE FROM social_comments WHERE post_id = ?`).bind(id),
	]);
}

/** A user's posts, newest first, before the keyset. */
export async function listPostsBy(
	db: D1Database,
	tenantId: string,
	authorId: string,
	before: Keyset | null,
	limit: number,
): Promise<PostRow[]> {
	const k = before ?? NO_CURSOR;
	const { results } = await db
		.prepare(
			`SELECT ${POST_COLUMNS} FROM social_posts p
			  WHERE p.tenant_id = ?1 AND p.author_id = ?2 AND (p.created_at < ?3 OR (p.created_at = ?3 AND p.id < ?4))
			  ORDER BY p.created_at DESC, p.id DESC LIMIT ?5`,
		)
		.bind(tenantId, authorId, k.at, k.id, limit)
		.all<PostRow>();
	return results;
}

/**
 * Likes (`liked` true) or unlikes a post, once: the like row is inserted only if absent (and the
 * post exists in the tenant) or deleted if present, then like_count and the liker's affinity to
 * the author move by one only if that statement changed a row. Returns the post's like count
 * after the batch, or null when the tenant has no such post.
 */
export async function setLike(
	db: D1Database,
	tenantId: string,
	postId: string,
	userId: string,
	liked: boolean,
	now: number,
): Promise<number | null> {
	const delta = liked ? 1 : -1;
	const edge = liked
		? db
				.prepare(
					`INSERT INTO social_likes (tenant_id, post_id, user_id, created_at)
					 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM social_posts WHERE id = ?2 AND tenant_id = ?1)
					 ON CONFLICT DO NOTHING`,
				)
				.bind(tenantId, postId, userId, now)
		: db
				.prepare(`DELETE FROM social_likes WHERE post_id = ? AND user_id = ? AND tenant_id = ?`)
				.bind(postId, userId, tenantId);
	const res = await db.batch([
		edge,
		db
			.prepare(`UPDATE social_posts SET like_count = like_count + ? WHERE id = ? AND tenant_id = ? AND changes() > 0`)
			.bind(delta, postId, tenantId),
		affinity(db, tenantId, userId, postId, delta),
		db.prepare(`SELECT like_count FROM social_posts WHERE id = ? AND tenant_id = ?`).bind(postId, tenantId),
	]);
	return countOf(res[3]?.results, "like_count");
}

export async function listLikes(
	db: D1Database,
	tenantId: string,
	postId: string,
	before: Keyset | null,
	limit: number,
): Promise<LikeRow[]> {
	const k = before ?? NO_CURSOR;
	const { results } = await db
		.prepare(
			`SELECT l.user_id, u.username, l.created_at FROM social_likes l JOIN account_users u ON u.id = l.user_id
			  WHERE l.post_id = ?1 AND l.tenant_id = ?2 AND (l.created_at < ?3 OR (l.created_at = ?3 AND l.user_id < ?4))
			  ORDER BY l.created_at DESC, l.user_id DESC LIMIT ?5`,
		)
		.bind(postId, tenantId, k.at, k.id, limit)
		.all<LikeRow>();
	return results;
}

/** Inserts a comment (when the post exists in the tenant) with comment_count and affinity. */
export async function insertComment(db: D1Database, tenantId: string, c: CommentRow): Promise<boolean> {
	const res = await db.batch([
		db
			.prepare(
				`INSERT INTO social_comments (id, tenant_id, post_id, author_id, body, created_at)
				 SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM social_posts WHERE id = ?3 AND tenant_id = ?2)`,
			)
			.bind(c.id, tenantId, c.post_id, c.author_id, c.body, c.created_at),
		db
			.prepare(
				`UPDATE social_posts SET comment_count = comment_count + 1 WHERE id = ? AND tenant_id = ? AND changes() > 0`,
			)
			.bind(c.post_id, tenantId),
		affinity(db, tenantId, c.author_id, c.post_id, 1),
	]);
	return (res[0]?.meta.changes ?? 0) > 0;
}

export async function findComment(db: D1Database, tenantId: string, id: string): Promise<CommentRow | null> {
	return db
		.prepare(`SELECT id, post_id, author_id, body, created_at FROM social_comments WHERE tenant_id = ? AND id = ?`)
		.bind(tenantId, id)
		.first<CommentRow>();
}

export async function deleteComment(db: D1Database, tenantId: string, c: CommentRow): Promise<void> {
	await db.batch([
		db.prepare(`DELETE FROM social_comments WHERE tenant_id = ? AND id = ?`).bind(tenantId, c.id),
		db
			.prepare(
				`UPDATE social_posts SET comment_count = comment_count - 1 WHERE id = ? AND tenant_id = ? AND changes() > 0`,
			)
			.bind(c.post_id, tenantId),
	]);
}

/** Comments of a post, oldest first (a conversation reads downwards), after the keyset. */
export async function listComments(
	db: D1Database,
	tenantId: string,
	postId: string,
	after: Keyset | null,
	limit: number,
): Promise<CommentRow[]> {
	const k = after ?? { at: -1, id: "" };
	const { results } = await db
		.prepare(
			`SELECT id, post_id, author_id, body, created_at FROM social_comments
			  WHERE post_id = ?1 AND tenant_id = ?2 AND (created_at > ?3 OR (created_at = ?3 AND id > ?4))
			  ORDER BY created_at, id LIMIT ?5`,
		)
		.bind(postId, tenantId, k.at, k.id, limit)
		.all<CommentRow>();
	return results;
}

/** The reader's affinity to the post's author moves by `delta` when the previous statement changed a row. */
function affinity(db: D1Database, tenantId: string, userId: string, postId: string, delta: number) {
	return db
		.prepare(
			`INSERT INTO social_affinity (tenant_id, user_id, author_id, score)
			 SELECT ?1, ?2, author_id, ?4 FROM social_posts WHERE id = ?3 AND tenant_id = ?1 AND author_id != ?2 AND changes() > 0
			 ON CONFLICT DO UPDATE SET score = MAX(0, score + ?4)`,
		)
		.bind(tenantId, userId, postId, delta);
}

function countOf(rows: unknown[] | undefined, key: string): number | null {
	const row = rows?.[0];
	if (typeof row !== "object" || row === null || !(key in row)) return null;
	const value: unknown = Reflect.get(row, key);
	return typeof value === "number" ? value : null;
}
