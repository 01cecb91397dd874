import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleFeedBatch, handleFeedDeadLetterBatch } from "../../../queues/feed";
import { call } from "../helpers";
import { as, feedRows, ok, post, socialTenant } from "./social-helpers";
import type { Post } from "./social-helpers";

describe("social tenant isolation", () => {
	it("answers 404 to a user of tenant B for tenant A's users, posts and comments", async () => {
		const a = await socialTenant(1);
		const b = await socialTenant(1);
		const [alice, bob] = [a.users[0]!, b.users[0]!];
		const p = await post(alice, "tenant A only");
		const c = await ok<{ id: string }>(await as(alice, "POST", `/posts/${p.id}/comments`, { body: "a" }), 201);
		const attempts: [string, string, unknown?][] = [
			["GET", `/users/${alice.userId}`],
			["PUT", `/users/${alice.userId}`, { bio: "x" }],
			["GET", `/users/${alice.userId}/followers`],
			["GET", `/users/${alice.userId}/following`],
			["POST", `/users/${alice.userId}/follow`],
			["DELETE", `/users/${alice.userId}/follow`],
			["GET", `/posts?user_id=${alice.userId}`],
			["GET", `/timeline/user/${alice.userId}`],
			["GET", `/posts/${p.id}`],
			["PUT", `/posts/${p.id}`, { body: "x" }],
			["DELETE", `/posts/${p.id}`],
			["POST", `/posts/${p.id}/like`],
			["DELETE", `/posts/${p.id}/like`],
			["GET", `/posts/${p.id}/likes`],
			["POST", `/posts/${p.id}/comments`, { body: "x" }],
			["GET", `/posts/${p.id}/comments`],
			["DELETE", `/comments/${c.id}`],
		];
		for (const [method, path, body] of attempts) {
			expect((await as(bob, method, path, body)).status, `${method} ${path}`).toBe(404);
		}
		const still = await ok<Post>(await as(alice, "GET", `/posts/${p.id}`));
		expect(still).toMatchObject({ body: "tenant A only", like_count: 0, comment_count: 1 });
		expect((await ok<{ posts: Post[] }>(await as(bob, "GET", "/timeline/home"))).posts).toEqual([]);
		// A token of tenant A naming tenant B in Floodgate-Tenant is refused.
		const crossed = await call("GET", "/api/v1/timeline/home", {
			token: alice.token,
			headers: { "Floodgate-Tenant": b.tenantId },
		});
		expect(crossed.status).toBe(401);
	});

	it("keeps feed settings per tenant and validates them", async () => {
		const a = await socialTenant(0);
		const b = await socialTenant(0);
		const put = await call("PUT", "/api/v1/social/settings", { token: a.apiKey, body: { celebrity_threshold: 5 } });
		expect(put.status).toBe(200);
		const got = await ok<{ celebrity_threshold: number; feed_cap: number }>(
			await call("GET", "/api/v1/social/settings", { token: b.apiKey }),
		);
		expect(got).toMatchObject({ celebrity_threshold: 10_000, feed_cap: 800 });
		expect((await call("PUT", "/api/v1/social/settings", { token: a.apiKey, body: { feed_cap: 1 } })).status).toBe(400);
		expect((await call("PUT", "/api/v1/social/settings", { token: a.apiKey, body: { bogus: 1 } })).status).toBe(400);
		expect((await call("GET", "/api/v1/social/settings")).status).toBe(401);
	});
});

describe("feed queue consumer", () => {
	it("writes a slice once even when redelivered, and retries an invalid message on its own", async () => {
		const { tenantId, users } = await socialTenant(2);
		const [author, reader] = [users[0]!, users[1]!];
		const p = await post(author, "direct");
		const body = {
			tenant_id: tenantId,
			post_id: p.id,
			author_id: author.userId,
			created_at: Date.now(),
			feed_cap: 800,
			followers: [reader.userId],
		};
		for (const id of ["m1", "m1-again"]) {
			const batch = createMessageBatch<unknown>("floodgate-feed", [
				{ id, timestamp: new Date(), attempts: 1, body },
				{ id: `${id}-bad`, timestamp: new Date(), attempts: 1, body: { followers: "nope" } },
			]);
			const ctx = createExecutionContext();
			await handleFeedBatch(batch, env, ctx);
			const result = await getQueueResult(batch, ctx);
			expect(result.explicitAcks).toEqual([id]);
			expect(result.retryMessages.map((m) => m.msgId)).toEqual([`${id}-bad`]);
		}
		expect(await feedRows(tenantId, reader.userId, p.id)).toBe(1);
	});

	it("acks dead letters once they are stored for an operator", async () => {
		const batch = createMessageBatch<unknown>("floodgate-feed-dlq", [
			{ id: "dead-1", timestamp: new Date(), attempts: 1, body: { anything: true } },
		]);
		const ctx = createExecutionContext();
		await handleFeedDeadLetterBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
		const row = await env.DB.prepare("SELECT queue, kind FROM dead_letters WHERE message_id = 'feed:dead-1'").first();
		expect(row).toEqual({ queue: "floodgate-feed", kind: null });
	});
});
