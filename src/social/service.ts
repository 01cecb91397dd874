import { newId } from "../platform/crypto";
import { errorText, log } from "../platform/log";
import { groupForSendBatch } from "../platform/queue-limits";
import { TtlCache } from "../platform/ttl-cache";
import { activeFollowerIds, findProfile, readSettingsJson, writeSettings } from "./db";
import {
	DEFAULT_SETTINGS,
	SOCIAL_LIMITS,
	feedMessageSchema,
	fanoutMessages,
	isInactive,
	rankPosts,
	settingsSchema,
} from "./domain";
import type { Keyset, LiveMessage, SocialSettings } from "./domain";
import { homeTimeline, touchReader } from "./feed-db";
import type { FeedPostRow } from "./feed-db";
import { deletePost, insertPost } from "./posts-db";
import type { PostRow } from "./posts-db";

/** The feed's I/O: settings, posting with fan-out, the home timeline. */

const TOUCH_EVERY_MS = 3_600_000;
const SETTINGS_CACHE = new TtlCache<string, SocialSettings>({ ttlMs: 30_000, maxEntries: 1_000 });

/** A tenant's feed settings (defaults until PUT), cached 30 s per isolate. */
export async function feedSettings(db: D1Database, tenantId: string): Promise<SocialSettings> {
	const hit = SETTINGS_CACHE.get(tenantId);
	if (hit) return hit;
	const text = await readSettingsJson(db, tenantId);
	const parsed = text === null ? null : settingsSchema.safeParse(JSON.parse(text));
	const settings = parsed?.success ? parsed.data : DEFAULT_SETTINGS;
	SETTINGS_CACHE.set(tenantId, settings);
	return settings;
}

export async function saveFeedSettings(db: D1Database, tenantId: string, s: SocialSettings): Promise<void> {
	await writeSettings(db, tenantId, s, Date.now());
	SETTINGS_CACHE.set(tenantId, s);
}

/**
 * Stores a post, then fans it out before answering (a 201 means the feed messages were accepted
 * too; if sending fails the post is removed again and the request fails): an author below the celebrity threshold gets one message per slice of active followers
 * (users inactive for 30 days are skipped; their feed is rebuilt on read), sent in sendBatch
 * groups of <= 100 messages and <= 256 KB. A celebrity's post is merged in on read instead, and
 * only streamed live: one `live` message starts a walk over the followers with an open stream.
 */
export async function createPost(env: Env, tenantId: string, authorId: string, body: string): Promise<PostRow> {
	const now = Date.now();
	const post: PostRow = {
		id: newId("pst"),
		author_id: authorId,
		body,
		like_count: 0,
		comment_count: 0,
		created_at: now,
		updated_at: now,
	};
	await insertPost(env.DB, tenantId, post);
	const settings = await feedSettings(env.DB, tenantId);
	const author = await findProfile(env.DB, tenantId, authorId);
	if ((author?.followers_count ?? 0) >= settings.celebrity_threshold) {
		await startLiveDelivery(env, {
			kind: "live",
			tenant_id: tenantId,
			post_id: post.id,
			author_id: authorId,
			created_at: now,
			after: null,
		});
		return post;
	}
	const followers = await activeFollowerIds(
		env.DB,
		tenantId,
		authorId,
		now - SOCIAL_LIMITS.inactiveMs,
		settings.celebrity_threshold,
	);
	const messages = fanoutMessages(
		{ tenant_id: tenantId, post_id: post.id, author_id: authorId, created_at: now, feed_cap: settings.feed_cap },
		followers,
	);
	try {
		for (const group of groupForSendBatch(messages)) await env.FEED_QUEUE.sendBatch(group.map((m) => ({ body: m })));
	} catch (err) {
		// Not accepted unless fanned out: take the post back so the 500 means "not posted". Slices
		// already sent point at a missing post, which every feed read skips (it joins social_posts).
		await deletePost(env.DB, tenantId, post.id, authorId);
		throw err;
	}
	log.info("post fanned out", { tenant_id: tenantId, post_id: post.id, followers: followers.length });
	return post;
}

export type HomePage = { posts: FeedPostRow[]; next_cursor: string | null };

/**
 * The reader's home timeline. Marks them active, rebuilding their feed first when they had been
 * inactive (fan-out skipped them). `latest`: newest first, keyset cursor. `top`: the newest
 * SOCIAL_LIMITS.topCandidates posts ranked by rankScore, paged by offset.
 */
export async function readHome(
	db: D1Database,
	tenantId: string,
	readerId: string,
	q: { ranking: "latest" | "top"; limit: number; after: Keyset | null; offset: number },
): Promise<{ posts: FeedPostRow[]; next: Keyset | number | null }> {
	const now = Date.now();
	const settings = await feedSettings(db, tenantId);
	const me = await findProfile(db, tenantId, readerId);
	const seen = me?.last_active_at ?? null;
	const stale = seen !== null && isInactive(seen, now);
	// Activity is kept to the hour: most reads cost no write.
	if (seen === null || now - seen > TOUCH_EVERY_MS)
		await touchReader(db, tenantId, readerId, now, stale ? { cap: settings.feed_cap } : null);
	if (q.ranking === "latest") {
		const rows = await homeTimeline(db, tenantId, readerId, settings.celebrity_threshold, q.after, q.limit + 1);
		const page = rows.slice(0, q.limit);
		const last = page.at(-1);
		return { posts: page, next: rows.length > q.limit && last ? { at: last.created_at, id: last.id } : null };
	}
	const candidates = await homeTimeline(
		db,
		tenantId,
		readerId,
		settings.celebrity_threshold,
		null,
		SOCIAL_LIMITS.topCandidates,
	);
	const ranked = rankPosts(candidates, settings, now);
	const end = q.offset + q.limit;
	return { posts: ranked.slice(q.offset, end), next: end < ranked.length ? end : null };
}

/**
 * Live delivery of a celebrity's post to open home streams (queues/feed.ts walks the followers).
 * Best effort like every live event: if the queue refuses, the post stays posted (it is on every
 * follower's timeline at the next read) and the failure is logged.
 */
async function startLiveDelivery(env: Env, message: LiveMessage): Promise<void> {
	try {
		await env.FEED_QUEUE.send(message);
	} catch (err) {
		log.warn("live delivery not started", { post_id: message.post_id, error: errorText(err) });
	}
}

/** An operator's replay of a feed dead letter: false when the body is not a feed message. */
export async function replayFeedMessage(env: Env, body: unknown): Promise<boolean> {
	const parsed = feedMessageSchema.safeParse(body);
	if (!parsed.success) return false;
	await env.FEED_QUEUE.send(parsed.data);
	return true;
}
