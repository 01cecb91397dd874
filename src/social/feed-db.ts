import type { FollowKey, Keyset } from "./domain";
import type { PostRow } from "./posts-db";

/** Feed rows (fan-out on write), the home timeline query (with the merge on read) and rebuilds. */

export type FeedPostRow = PostRow & { affinity: number };

/**
 * The home timeline before `before`, newest first: the reader's fanned-out feed rows UNION the
 * posts of authors merged on read — the reader themself and every followee with at least
 * `celebrityThreshold` followers (never fanned out). UNION drops a post present in both (an author
 * who crossed the threshold after fan-out). Each row carries the reader's affinity to its author.
 */
export async function homeTimeline(
	db: D1Database,
	tenantId: string,
	readerId: string,
	celebrityThreshold: number,
	before: Keyset | null,
	limit: number,
): Promise<FeedPostRow[]> {
	const k = before ?? { at: Number.MAX_SAFE_INTEGER, id: "" };
	const { results } = await db
		.prepare(
			`SELECT c.*, COALESCE(a.score, 0) AS affinity FROM (
			   SELECT p.id, p.author_id, p.body, p.like_count, p.comment_count, p.created_at, p.updated_at
			     FROM social_feed f JOIN social_posts p ON p.id = f.post_id
			    WHERE f.tenant_id = ?1 AND f.user_id = ?2 AND (f.created_at < ?3 OR (f.created_at = ?3 AND f.post_id < ?4))
			   UNION
			   SELECT p.id, p.author_id, p.body, p.like_count, p.comment_count, p.created_at, p.updated_at
			     FROM social_posts p
			    WHERE p.tenant_id = ?1 AND (p.created_at < ?3 OR (p.created_at = ?3 AND p.id < ?4))
			      AND (p.author_id = ?2 OR p.author_id IN (
			            SELECT f.followee_id FROM social_follows f
			              JOIN social_profiles pr ON pr.tenant_id = f.tenant_id AND pr.user_id = f.followee_id
			             WHERE f.tenant_id = ?1 AND f.follower_id = ?2 AND pr.followers_count >= ?5))
			   ORDER BY created_at DESC, id DESC LIMIT ?6
			 ) c LEFT JOIN social_affinity a ON a.tenant_id = ?1 AND a.user_id = ?2 AND a.author_id = c.author_id
			 ORDER BY c.created_at DESC, c.id DESC`,
		)
		.bind(tenantId, readerId, k.at, k.id, celebrityThreshold, limit)
		.all<FeedPostRow>();
	return results;
}

/**
 * Marks the reader active; when they had been inactive (skipped by fan-out), first rebuilds their
 * feed from their followees' newest `cap` posts, all in one transaction.
 */
export async function touchReader(
	db: D1Database,
	tenantId: string,
	userId: string,
	now: number,
	rebuild: { cap: number } | null,
): Promise<void> {
	const touch = db
		.prepare(
			`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at) VALUES (?1, ?2, ?3, ?3)
			 ON CONFLICT DO UPDATE SET last_active_at = excluded.last_active_at`,
		)
		.bind(tenantId, userId, now);
	if (!rebuild) {
		await touch.run();
		return;
	}
	await db.batch([
		db.prepare(`DELETE FROM social_feed WHERE tenant_id = ? AND user_id = ?`).bind(tenantId, userId),
		db
			.prepare(
				`INSERT INTO social_feed (tenant_id, user_id, post_id, author_id, created_at)
				 SELECT ?1, ?2, p.id, p.author_id, p.created_at FROM social_follows f
				   JOIN social_posts p ON p.tenant_id = f.tenant_id AND p.author_id = f.followee_id
				  WHERE f.tenant_id = ?1 AND f.follower_id = ?2
				  ORDER BY p.created_at DESC, p.id DESC LIMIT ?3`,
			)
			.bind(tenantId, userId, rebuild.cap),
		touch,
	]);
}

/**
 * One fan-out slice: a feed row per follower (idempotent: a redelivered message inserts nothing
 * new), then each of those feeds trimmed to its newest `cap` rows. Two statements whatever the
 * slice size (the ids travel as one JSON parameter). Returns the rows inserted.
 */
export async function writeFeedSlice(
	db: D1Database,
	m: {
		tenant_id: string;
		post_id: string;
		author_id: string;
		created_at: number;
		feed_cap: number;
		followers: string[];
	},
): Promise<number> {
	const ids = JSON.stringify(m.followers);
	const res = await db.batch([
		db
			.prepare(
				`INSERT INTO social_feed (tenant_id, user_id, post_id, author_id, created_at)
				 SELECT ?1, value, ?2, ?3, ?4 FROM json_each(?5) WHERE true ON CONFLICT DO NOTHING`,
			)
			.bind(m.tenant_id, m.post_id, m.author_id, m.created_at, ids),
		db
			.prepare(
				`DELETE FROM social_feed WHERE rowid IN (
				   SELECT rid FROM (
				     SELECT rowid AS rid, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at DESC, post_id DESC) AS rn
				       FROM social_feed WHERE tenant_id = ?1 AND user_id IN (SELECT value FROM json_each(?2))
				   ) WHERE rn > ?3)`,
			)
			.bind(m.tenant_id, ids, m.feed_cap),
	]);
	return res[0]?.meta.changes ?? 0;
}

/** Retention: feed rows older than `cutoff` (a feed unread that long is rebuilt on its next read). */
export async function purgeOldFeedRows(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const res = await db
		.prepare(
			`DELETE FROM social_feed WHERE rowid IN (SELECT rowid FROM social_feed WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return res.meta.changes;
}

/** Records that the user's home stream may be open until `until` (fan-out publishes to them). */
export async function markStreamOpen(db: D1Database, tenantId: string, userId: string, until: number, now: number) {
	await db
		.prepare(
			`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at, stream_until) VALUES (?1, ?2, ?3, ?3, ?4)
			 ON CONFLICT DO UPDATE SET stream_until = MAX(COALESCE(stream_until, 0), excluded.stream_until),
			   last_active_at = excluded.last_active_at`,
		)
		.bind(tenantId, userId, now, until)
		.run();
}

/** Of `userIds`, those with a home stream possibly open at `now`. */
export async function usersWithOpenStreams(db: D1Database, tenantId: string, userIds: string[], now: number) {
	const { results } = await db
		.prepare(
			`SELECT user_id FROM social_profiles
			  WHERE tenant_id = ? AND user_id IN (SELECT value FROM json_each(?)) AND stream_until > ?`,
		)
		.bind(tenantId, JSON.stringify(userIds), now)
		.all<{ user_id: string }>();
	return results.map((r) => r.user_id);
}

const FOLLOWER_SLICE = `WITH slice AS (
	SELECT created_at, follower_id FROM social_follows
	 WHERE tenant_id = ?1 AND followee_id = ?2 AND (created_at > ?3 OR (created_at = ?3 AND follower_id > ?4))
	 ORDER BY created_at, follower_id LIMIT ?5)`;

/**
 * One step of a walk over a followee's followers in follow order (the followee index), after
 * `after`: of the next `scan` follow rows, the first `publish` followers with a home stream open
 * at `now`, and where the next step starts (null when no follower is left).
 */
export async function openStreamFollowers(
	db: D1Database,
	tenantId: string,
	followeeId: string,
	after: FollowKey | null,
	limits: { scan: number; publish: number },
	now: number,
): Promise<{ users: string[]; next: FollowKey | null }> {
	const args = [tenantId, followeeId, after?.at ?? -1, after?.id ?? "", limits.scan];
	const [open, end] = await db.batch<{ at: number; id: string; n?: number }>([
		db
			.prepare(
				`${FOLLOWER_SLICE} SELECT s.created_at AS at, s.follower_id AS id FROM slice s
				   JOIN social_profiles p ON p.tenant_id = ?1 AND p.user_id = s.follower_id
				  WHERE p.stream_until > ?6 ORDER BY s.created_at, s.follower_id LIMIT ?7`,
			)
			.bind(...args, now, limits.publish),
		db
			.prepare(
				`${FOLLOWER_SLICE} SELECT (SELECT COUNT(*) FROM slice) AS n, created_at AS at, follower_id AS id
				   FROM slice ORDER BY created_at DESC, follower_id DESC LIMIT 1`,
			)
			.bind(...args),
	]);
	const users = open?.results ?? [];
	const last = end?.results[0];
	const lastOpen = users.at(-1);
	const next =
		users.length >= limits.publish && lastOpen
			? { at: lastOpen.at, id: lastOpen.id }
			: last && last.n === limits.scan
				? { at: last.at, id: last.id }
				: null;
	return { users: users.map((u) => u.id), next };
}
