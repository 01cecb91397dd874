import { assert as check, nat, property } from "fast-check";
import { describe, expect, it } from "vitest";
import {
	DEFAULT_SETTINGS,
	SOCIAL_LIMITS,
	cursorSchema,
	encodeCursor,
	fanoutMessages,
	isInactive,
	rankPosts,
	rankScore,
	settingsSchema,
	topCursorSchema,
} from "../../../src/social/domain";
import { groupForSendBatch, messageBytes, MAX_MESSAGE_BYTES } from "../../../src/platform/queue-limits";

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

describe("rankScore", () => {
	it("is the stated formula with the default weights", () => {
		const score = rankScore(
			{ created_at: NOW - 24 * HOUR, like_count: 3, comment_count: 1, affinity: 2 },
			DEFAULT_SETTINGS,
			NOW,
		);
		expect(score).toBeCloseTo(1 * 0.5 + 0.3 * Math.log(4) + 0.5 * Math.log(2) + 0.7 * Math.log(3), 10);
	});

	it("never rises with age and never falls with more likes, comments or affinity", () => {
		const n = nat({ max: 10_000 });
		check(
			property(n, n, n, n, nat({ max: 1_000 }), (likes, comments, affinity, ageH, more) => {
				const base = { created_at: NOW - ageH * HOUR, like_count: likes, comment_count: comments, affinity };
				const s = rankScore(base, DEFAULT_SETTINGS, NOW);
				expect(rankScore({ ...base, created_at: base.created_at - HOUR }, DEFAULT_SETTINGS, NOW)).toBeLessThanOrEqual(
					s,
				);
				expect(rankScore({ ...base, like_count: likes + more }, DEFAULT_SETTINGS, NOW)).toBeGreaterThanOrEqual(s);
				expect(rankScore({ ...base, affinity: affinity + more }, DEFAULT_SETTINGS, NOW)).toBeGreaterThanOrEqual(s);
			}),
		);
	});

	it("orders a constructed case: affinity beats likes beats nothing; ties go to the newest", () => {
		const post = (id: string, like_count: number, affinity: number, created_at = NOW) => ({
			id,
			created_at,
			like_count,
			comment_count: 0,
			affinity,
		});
		const ranked = rankPosts(
			[post("plain", 0, 0), post("liked", 2, 0), post("friend", 0, 3), post("plain-older", 0, 0, NOW - 1)],
			DEFAULT_SETTINGS,
			NOW,
		);
		expect(ranked.map((p) => p.id)).toEqual(["friend", "liked", "plain", "plain-older"]);
	});

	it("with recency only, is newest first", () => {
		const s = settingsSchema.parse({ weights: { recency: 1, likes: 0, comments: 0, affinity: 0 } });
		const posts = [0, 5, 2].map((h) => ({
			id: `h${h}`,
			created_at: NOW - h * HOUR,
			like_count: 9,
			comment_count: 9,
			affinity: 9,
		}));
		expect(rankPosts(posts, s, NOW).map((p) => p.id)).toEqual(["h0", "h2", "h5"]);
	});
});

describe("settings", () => {
	it("fills defaults and rejects unknown or out-of-range fields", () => {
		expect(settingsSchema.parse({ weights: { likes: 2 } }).weights).toEqual({
			recency: 1,
			likes: 2,
			comments: 0.5,
			affinity: 0.7,
		});
		expect(DEFAULT_SETTINGS).toMatchObject({ celebrity_threshold: 10_000, feed_cap: 800, half_life_hours: 24 });
		expect(settingsSchema.safeParse({ feed_cap: 5 }).success).toBe(false);
		expect(settingsSchema.safeParse({ weights: { fun: 1 } }).success).toBe(false);
	});
});

describe("cursors", () => {
	it("round-trips a keyset and rejects anything else", () => {
		expect(cursorSchema.parse(encodeCursor({ at: 123, id: "pst_ab" }))).toEqual({ at: 123, id: "pst_ab" });
		expect(cursorSchema.safeParse("x.y").success).toBe(false);
		expect(topCursorSchema.parse("top.40")).toBe(40);
		expect(topCursorSchema.safeParse("top.-1").success).toBe(false);
	});
});

describe("fan-out", () => {
	it("slices followers into bounded messages that fit the queue's limits", () => {
		const followers = Array.from({ length: 10_000 }, (_, i) => `usr_${i.toString(16).padStart(24, "0")}`);
		const post = { tenant_id: "ten_x", post_id: "pst_x", author_id: "usr_a", created_at: NOW, feed_cap: 800 };
		const messages = fanoutMessages(post, followers);
		expect(messages).toHaveLength(10_000 / SOCIAL_LIMITS.fanoutSlice);
		expect(messages.flatMap((m) => m.followers)).toEqual(followers);
		for (const m of messages) expect(messageBytes(m)).toBeLessThan(MAX_MESSAGE_BYTES);
		const groups = groupForSendBatch(messages);
		expect(groups.flat()).toHaveLength(messages.length);
		for (const g of groups) expect(g.length).toBeLessThanOrEqual(100);
		expect(fanoutMessages(post, [])).toEqual([]);
	});

	it("counts a user inactive after 30 days", () => {
		expect(isInactive(NOW - 30 * 24 * HOUR, NOW)).toBe(false);
		expect(isInactive(NOW - 30 * 24 * HOUR - 1, NOW)).toBe(true);
	});
});
