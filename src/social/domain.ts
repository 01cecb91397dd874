import { z } from "zod";

/** Pure rules of the social API and news feed: settings, ranking, cursors, fan-out slices. */

export const SOCIAL_LIMITS = {
	maxPage: 100,
	defaultPage: 20,
	maxPostChars: 5_000,
	maxCommentChars: 2_000,
	/** Follower ids per fan-out message (~15 KB): two statements (insert, trim) through json_each. */
	fanoutSlice: 500,
	/** Newest candidates ranked for ranking=top (a page walks this set, never beyond it). */
	topCandidates: 200,
	/** Live delivery of a celebrity's post: follow rows looked at per step, open streams notified per step. */
	liveScan: 5_000,
	livePublish: 90,
	inactiveMs: 30 * 24 * 3_600_000,
} as const;

export const settingsSchema = z
	.object({
		/** Authors with at least this many followers are merged in on read instead of fanned out. */
		celebrity_threshold: z.number().int().min(1).max(10_000_000).default(10_000),
		feed_cap: z.number().int().min(10).max(5_000).default(800),
		weights: z
			.object({
				recency: z.number().min(0).max(100).default(1),
				likes: z.number().min(0).max(100).default(0.3),
				comments: z.number().min(0).max(100).default(0.5),
				affinity: z.number().min(0).max(100).default(0.7),
			})
			.strict()
			.prefault({}),
		half_life_hours: z
			.number()
			.min(0.1)
			.max(24 * 365)
			.default(24),
	})
	.strict();
export type SocialSettings = z.infer<typeof settingsSchema>;
export const DEFAULT_SETTINGS: SocialSettings = settingsSchema.parse({});

export type RankInput = { created_at: number; like_count: number; comment_count: number; affinity: number };

/**
 * The `top` score: w_recency · 0.5^(age_h / half_life_h) + w_likes · ln(1 + likes)
 * + w_comments · ln(1 + comments) + w_affinity · ln(1 + affinity), where affinity is the reader's
 * own likes and comments on the post's author. Logarithms damp runaway counts; the half-life decay
 * keeps a day-old post from outranking a fresh one on a few likes.
 */
export function rankScore(post: RankInput, s: SocialSettings, now: number): number {
	const ageHours = Math.max(0, now - post.created_at) / 3_600_000;
	const w = s.weights;
	return (
		w.recency * 0.5 ** (ageHours / s.half_life_hours) +
		w.likes * Math.log1p(post.like_count) +
		w.comments * Math.log1p(post.comment_count) +
		w.affinity * Math.log1p(post.affinity)
	);
}

/** Highest score first; ties by newest, then id, so the order is total and stable. */
export function rankPosts<T extends RankInput & { id: string }>(
	posts: readonly T[],
	s: SocialSettings,
	now: number,
): T[] {
	return posts
		.map((p) => ({ p, score: rankScore(p, s, now) }))
		.sort((a, b) => b.score - a.score || b.p.created_at - a.p.created_at || (a.p.id < b.p.id ? 1 : -1))
		.map((x) => x.p);
}

export type Keyset = { at: number; id: string };

/** `<millis>.<id>`: the (created_at, id) of the last item of a page, newest-first order. */
export function encodeCursor(k: Keyset): string {
	return `${k.at}.${k.id}`;
}

export const cursorSchema = z
	.string()
	.regex(/^\d{1,16}\.[A-Za-z0-9_-]{1,64}$/, "a cursor from next_cursor")
	.transform((s): Keyset => {
		const dot = s.indexOf(".");
		return { at: Number(s.slice(0, dot)), id: s.slice(dot + 1) };
	});

/** An offset into the ranked candidate set (ranking=top). */
export const topCursorSchema = z
	.string()
	.regex(/^top\.\d{1,4}$/, "a cursor from next_cursor")
	.transform((s) => Number(s.slice(4)));

/** Whether a user last seen at `lastActiveAt` counts as inactive at `now` (skipped at fan-out). */
export function isInactive(lastActiveAt: number, now: number): boolean {
	return now - lastActiveAt > SOCIAL_LIMITS.inactiveMs;
}

export type FanoutMessage = {
	tenant_id: string;
	post_id: string;
	author_id: string;
	created_at: number;
	feed_cap: number;
	followers: string[];
};

export const fanoutMessageSchema = z
	.object({
		tenant_id: z.string().min(1).max(64),
		post_id: z.string().min(1).max(64),
		author_id: z.string().min(1).max(64),
		created_at: z.number().int().nonnegative(),
		feed_cap: z.number().int().min(1).max(5_000),
		followers: z.array(z.string().min(1).max(64)).min(1).max(SOCIAL_LIMITS.fanoutSlice),
	})
	.strict();

/** Where a live walk over a celebrity's followers continues: the last follow row it handled. */
export const followKeySchema = z.object({ at: z.number().int().nonnegative(), id: z.string().min(1).max(64) }).strict();
export type FollowKey = z.infer<typeof followKeySchema>;

/**
 * One step of the live delivery of a celebrity's post (merged on read, so never fanned out): the
 * consumer notifies the open home streams among the next followers after `after`, then sends the
 * next step while followers remain.
 */
export const liveMessageSchema = z
	.object({
		kind: z.literal("live"),
		tenant_id: z.string().min(1).max(64),
		post_id: z.string().min(1).max(64),
		author_id: z.string().min(1).max(64),
		created_at: z.number().int().nonnegative(),
		after: followKeySchema.nullable(),
	})
	.strict();
export type LiveMessage = z.infer<typeof liveMessageSchema>;

/** Every message of floodgate-feed: a fan-out slice or a live step. */
export const feedMessageSchema = z.union([fanoutMessageSchema, liveMessageSchema]);

/** One message per slice of at most `SOCIAL_LIMITS.fanoutSlice` followers. */
export function fanoutMessages(post: Omit<FanoutMessage, "followers">, followers: readonly string[]): FanoutMessage[] {
	const out: FanoutMessage[] = [];
	for (let i = 0; i < followers.length; i += SOCIAL_LIMITS.fanoutSlice)
		out.push({ ...post, followers: followers.slice(i, i + SOCIAL_LIMITS.fanoutSlice) });
	return out;
}
