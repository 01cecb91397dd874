import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { authCall, signUp } from "../accounts/account-helpers";
import { call, createTenant } from "../helpers";

export type Post = { id: string; author_id: string; body: string; like_count: number; comment_count: number };
export type Page = { posts: Post[]; next_cursor: string | null };
export type SocialUser = { userId: string; token: string };

/** A tenant with its API key and `n` signed-up end users. */
export async function socialTenant(n: number): Promise<{ tenantId: string; apiKey: string; users: SocialUser[] }> {
	const { tenantId, apiKey } = await createTenant("social");
	const users: SocialUser[] = [];
	for (let i = 0; i < n; i++) {
		const u = await signUp(tenantId);
		users.push({ userId: u.userId, token: u.tokens.access_token });
	}
	return { tenantId, apiKey, users };
}

/** An end user's request to the social API. */
export function as(user: SocialUser, method: string, path: string, body?: unknown): Promise<Response> {
	return authCall(method, `/api/v1${path}`, { token: user.token, body });
}

export async function ok<T>(res: Response, status = 200): Promise<T> {
	const text = await res.text();
	expect(res.status, text).toBe(status);
	return JSON.parse(text) as T;
}

export async function follow(follower: SocialUser, followee: SocialUser): Promise<void> {
	await ok(await as(follower, "POST", `/users/${followee.userId}/follow`));
}

export async function post(author: SocialUser, body = "hello"): Promise<Post> {
	return ok<Post>(await as(author, "POST", "/posts", { body }), 201);
}

export async function home(user: SocialUser, query = ""): Promise<Page> {
	return ok<Page>(await as(user, "GET", `/timeline/home${query}`));
}

export async function putSettings(apiKey: string, settings: unknown): Promise<void> {
	const res = await call("PUT", "/api/v1/social/settings", { token: apiKey, body: settings });
	expect(res.status, await res.clone().text()).toBe(200);
}

/** Feed rows of a user for a post (fan-out's output, read straight from D1). */
export async function feedRows(tenantId: string, userId: string, postId: string): Promise<number> {
	const row = await env.DB.prepare(
		`SELECT COUNT(*) AS n FROM social_feed WHERE tenant_id = ? AND user_id = ? AND post_id = ?`,
	)
		.bind(tenantId, userId, postId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

/** Polls until `check` returns a value (the queue consumer runs on its own schedule). */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
	const until = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > until) throw new Error("timed out waiting");
		await new Promise((r) => setTimeout(r, 100));
	}
}
