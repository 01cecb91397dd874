import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { settingsSchema } from "./domain";

/** The social API's answers as schemas and its routes' OpenAPI descriptions. */

const cursor = z.string().nullable().describe("Pass as cursor for the next page; null on the last page.");
const profileSchema = z
	.object({
		id: z.string(),
		username: z.string(),
		display_name: z.string().nullable(),
		bio: z.string().nullable(),
		followers_count: z.number().int(),
		following_count: z.number().int(),
		posts_count: z.number().int(),
	})
	.meta({ id: "SocialProfile" });
const postSchema = z
	.object({
		id: z.string(),
		author_id: z.string(),
		body: z.string(),
		like_count: z.number().int(),
		comment_count: z.number().int(),
		created_at: z.number().int(),
		updated_at: z.number().int(),
	})
	.meta({ id: "SocialPost" });
const commentSchema = z
	.object({
		id: z.string(),
		post_id: z.string(),
		author_id: z.string(),
		body: z.string(),
		created_at: z.number().int(),
	})
	.meta({ id: "SocialComment" });
const userRefSchema = z.object({ user_id: z.string(), username: z.string(), created_at: z.number().int() });
const postsPage = z.object({ posts: z.array(postSchema), next_cursor: cursor });
const likeState = z.object({ post_id: z.string(), liked: z.boolean(), like_count: z.number().int() });
const followState = z.object({ user_id: z.string(), following: z.boolean() });

const social = (tag: string) => (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: [tag], access: "end_user", ...doc }));
const users = social("Social users");
const posts = social("Social posts");
const timelines = social("Social timelines");

export const socialDocs = {
	getUser: users({ summary: "A user's profile and counters", ok: { 200: profileSchema }, errors: [404] }),
	putUser: users({ summary: "Edit your own profile", ok: { 200: profileSchema }, errors: [403, 404] }),
	followers: users({
		summary: "A user's followers, newest first",
		ok: { 200: z.object({ users: z.array(userRefSchema), next_cursor: cursor }) },
		errors: [404],
	}),
	following: users({
		summary: "The users a user follows, newest first",
		ok: { 200: z.object({ users: z.array(userRefSchema), next_cursor: cursor }) },
		errors: [404],
	}),
	follow: users({ summary: "Follow a user (idempotent)", ok: { 200: followState }, errors: [404, 422] }),
	unfollow: users({ summary: "Unfollow a user (idempotent)", ok: { 200: followState }, errors: [404] }),
	listPosts: posts({ summary: "A user's posts (default: yours), newest first", ok: { 200: postsPage }, errors: [404] }),
	createPost: posts({ summary: "Publish a post; it is fanned out to followers' feeds", ok: { 201: postSchema } }),
	getPost: posts({ summary: "A post", ok: { 200: postSchema }, errors: [404] }),
	putPost: posts({ summary: "Edit your own post", ok: { 200: postSchema }, errors: [403, 404] }),
	deletePost: posts({ summary: "Delete your own post", ok: { 204: { description: "Deleted." } }, errors: [403, 404] }),
	like: posts({ summary: "Like a post (idempotent)", ok: { 200: likeState }, errors: [404] }),
	unlike: posts({ summary: "Remove your like (idempotent)", ok: { 200: likeState }, errors: [404] }),
	likes: posts({
		summary: "Who liked a post, newest first",
		ok: { 200: z.object({ likes: z.array(userRefSchema), next_cursor: cursor }) },
		errors: [404],
	}),
	comment: posts({ summary: "Comment on a post", ok: { 201: commentSchema }, errors: [404] }),
	comments: posts({
		summary: "A post's comments, oldest first",
		ok: { 200: z.object({ comments: z.array(commentSchema), next_cursor: cursor }) },
		errors: [404],
	}),
	deleteComment: posts({
		summary: "Delete your own comment",
		ok: { 204: { description: "Deleted." } },
		errors: [403, 404],
	}),
	home: timelines({
		summary: "Your home timeline: followed authors' posts, latest or ranked (top)",
		description:
			"ranking=top scores the newest 200 candidates by w_recency·0.5^(age_h/half_life_h) + w_likes·ln(1+likes) + w_comments·ln(1+comments) + w_affinity·ln(1+affinity); see docs/social.md.",
		ok: { 200: postsPage },
	}),
	homeStream: timelines({
		summary: "Server-sent events: new posts from followed authors (bounded lifetime)",
		ok: {
			200: { description: "`post` events.", content: { "text/event-stream": { schema: { type: "string" } } } },
		},
		errors: [429],
	}),
	userTimeline: timelines({ summary: "A user's posts, newest first", ok: { 200: postsPage }, errors: [404] }),
	getSettings: describeRoute(
		apiRoute({
			tags: ["Social settings"],
			access: "tenant",
			summary: "The feed settings",
			ok: { 200: settingsSchema },
		}),
	),
	putSettings: describeRoute(
		apiRoute({
			tags: ["Social settings"],
			access: "tenant",
			summary: "Set the feed's ranking weights, celebrity threshold and feed cap",
			ok: { 200: settingsSchema },
		}),
	),
};
