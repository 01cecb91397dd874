import type { RetentionTarget } from "../platform/retention";
import { SOCIAL_LIMITS } from "./domain";
import { purgeOldFeedRows } from "./feed-db";

/**
 * Feed rows older than the inactivity window: a reader who has not been seen for that long gets
 * their feed rebuilt from follows on the next read, and an active reader's older history is still
 * on each author's own timeline. Posts, likes and comments are user content and are never expired.
 */
export function socialRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "social.feed",
			cutoff: now - SOCIAL_LIMITS.inactiveMs,
			purge: (cutoff, limit) => purgeOldFeedRows(env.DB, cutoff, limit),
		},
	];
}
