import type { SocialSettings } from "./domain";

/** Profiles, follows and settings. Every query is scoped by tenant_id. */

export type ProfileRow = {
	user_id: string;
	username: string;
	display_name: string | null;
	bio: string | null;
	followers_count: number;
	following_count: number;
	posts_count: number;
	last_active_at: number | null;
};

export type FollowRow = { user_id: string; username: string; created_at: number };

/** A user of the tenant (accounts' table, read only) with their profile, or null. */
export async function findProfile(db: D1Database, tenantId: string, userId: string): Promise<ProfileRow | null> {
	return db
		.prepare(
			`SELECT u.id AS user_id, u.username, p.display_name, p.bio, COALESCE(p.followers_count, 0) AS followers_count,
			        COALESCE(p.following_count, 0) AS following_count, COALESCE(p.posts_count, 0) AS posts_count,
			        p.last_active_at
			   FROM account_users u LEFT JOIN social_profiles p ON p.tenant_id = u.tenant_id AND p.user_id = u.id
			  WHERE u.tenant_id = ? AND u.id = ?`,
		)
		.bind(tenantId, userId)
		.first<ProfileRow>();
}

/** The statement that creates a user's profile row if missing (counters at 0, active now). */
export function ensureProfile(db: D1Database, tenantId: string, userId: string, now: number): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT DO NOTHING`,
		)
		.bind(tenantId, userId, now, now);
}

export async function updateProfile(
	db: D1Database,
	tenantId: string,
	userId: string,
	fields: { display_name?: string | null; bio?: string | null },
	now: number,
): Promise<void> {
	await db.batch([
		ensureProfile(db, tenantId, userId, now),
		db
			.prepare(
				`UPDATE social_profiles SET display_name = CASE WHEN ?1 THEN ?2 ELSE display_name END,
				        bio = CASE WHEN ?3 THEN ?4 ELSE bio END, updated_at = ?5
				  WHERE tenant_id = ?6 AND user_id = ?7`,
			)
			.bind(
				fields.display_name !== undefined ? 1 : 0,
				fields.display_name ?? null,
				fields.bio !== undefined ? 1 : 0,
				fields.bio ?? null,
				now,
				tenantId,
				userId,
			),
	]);
}

/**
 * Follows in one transaction: the edge is inserted once (ON CONFLICT DO NOTHING) and each counter
 * moves only when the statement before it changed a row (`changes() > 0`), so a repeated or
 * concurrent follow never double-counts. Returns whether the edge is new.
 */
export async function follow(db: D1Database, tenantId: string, follower: string, followee: string, now: number) {
	const res = await db.batch([
		ensureProfile(db, tenantId, follower, now),
		ensureProfile(db, tenantId, followee, now),
		db
			.prepare(
				`INSERT INTO social_follows (tenant_id, follower_id, followee_id, created_at) VALUES (?, ?, ?, ?)
				 ON CONFLICT DO NOTHING`,
			)
			.bind(tenantId, follower, followee, now),
		bump(db, "following_count", 1, tenantId, follower),
		bump(db, "followers_count", 1, tenantId, followee),
	]);
	return (res[2]?.meta.changes ?? 0) > 0;
}

/** Unfollows (counters guarded as in follow) and drops the followee's posts from the follower's feed. */
export async function unfollow(db: D1Database, tenantId: string, follower: string, followee: string) {
	const res = await db.batch([
		db
			.prepare(`DELETE FROM social_follows WHERE tenant_id = ? AND follower_id = ? AND followee_id = ?`)
			.bind(tenantId, follower, followee),
		bump(db, "following_count", -1, tenantId, follower),
		bump(db, "followers_count", -1, tenantId, followee),
		db
			.prepare(`DELETE FROM social_feed WHERE tenant_id = ? AND user_id = ? AND author_id = ?`)
			.bind(tenantId, follower, followee),
	]);
	return (res[0]?.meta.changes ?? 0) > 0;
}

/** A page of followers (`side` = "followers") or followees, newest edge first. */
export async function listFollows(
	db: D1Database,
	tenantId: string,
	userId: string,
	side: "followers" | "following",
	before: { at: number; id: string } | null,
	limit: number,
): Promise<FollowRow[]> {
	const [me, other] = side === "followers" ? ["followee_id", "follower_id"] : ["follower_id", "followee_id"];
	const { results } = await db
		.prepare(
			`SELECT f.${other} AS user_id, u.username, f.created_at
			   FROM social_follows f JOIN account_users u ON u.id = f.${other}
			  WHERE f.tenant_id = ?1 AND f.${me} = ?2 AND (f.created_at < ?3 OR (f.created_at = ?3 AND f.${other} < ?4))
			  ORDER BY f.created_at DESC, f.${other} DESC LIMIT ?5`,
		)
		.bind(tenantId, userId, before?.at ?? Number.MAX_SAFE_INTEGER, before?.id ?? "", limit)
		.all<FollowRow>();
	return results;
}

/** Followers to fan a post out to: active since `activeSince`, at most `limit`. */
export async function activeFollowerIds(
	db: D1Database,
	tenantId: string,
	authorId: string,
	activeSince: number,
	limit: number,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT f.follower_id AS id FROM social_follows f
			   JOIN social_profiles p ON p.tenant_id = f.tenant_id AND p.user_id = f.follower_id
			  WHERE f.tenant_id = ? AND f.followee_id = ? AND p.last_active_at >= ? LIMIT ?`,
		)
		.bind(tenantId, authorId, activeSince, limit)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}

export async function readSettingsJson(db: D1Database, tenantId: string): Promise<string | null> {
	const row = await db
		.prepare(`SELECT settings_json FROM social_settings WHERE tenant_id = ?`)
		.bind(tenantId)
		.first<{ settings_json: string }>();
	return row?.settings_json ?? null;
}

export async function writeSettings(db: D1Database, tenantId: string, s: SocialSettings, now: number): Promise<void> {
	await db
		.prepare(
			`INSERT INTO social_settings (tenant_id, settings_json, updated_at) VALUES (?, ?, ?)
			 ON CONFLICT (tenant_id) DO UPDATE SET settings_json = excluded.settings_json, updated_at = excluded.updated_at`,
		)
		.bind(tenantId, JSON.stringify(s), now)
		.run();
}

type Counter = "followers_count" | "following_count" | "posts_count";

/** `counter += delta` only when the previous statement of the batch changed a row. */
export function bump(db: D1Database, counter: Counter, delta: number, tenantId: string, userId: string) {
	return db
		.prepare(
			`UPDATE social_profiles SET ${counter} = ${counter} + ? WHERE tenant_id = ? AND user_id = ? AND changes() > 0`,
		)
		.bind(delta, tenantId, userId);
}
