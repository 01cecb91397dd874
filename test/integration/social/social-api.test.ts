import { describe, expect, it } from "vitest";
import { errorCode } from "../accounts/account-helpers";
import { as, ok, post, socialTenant } from "./social-helpers";
import type { Page, Post } from "./social-helpers";

type Profile = {
	id: string;
	followers_count: number;
	following_count: number;
	posts_count: number;
	bio: string | null;
};

describe("social API", () => {
	it("follows, posts, likes and comments with exact counters, and unfollows", async () => {
		const { users } = await socialTenant(2);
		const [alice, bob] = [users[0]!, users[1]!];
		expect(await ok(await as(bob, "POST", `/users/${alice.userId}/follow`))).toEqual({
			user_id: alice.userId,
			following: true,
		});
		await ok(await as(bob, "POST", `/users/${alice.userId}/follow`));
		const p = await post(alice, "first");
		await ok(await as(bob, "POST", `/posts/${p.id}/like`));
		const again = await ok<{ like_count: number }>(await as(bob, "POST", `/posts/${p.id}/like`));
		expect(again.like_count).toBe(1);
		const comment = await ok<{ id: string }>(await as(bob, "POST", `/posts/${p.id}/comments`, { body: "nice" }), 201);
		const got = await ok<Post>(await as(bob, "GET", `/posts/${p.id}`));
		expect(got).toMatchObject({ like_count: 1, comment_count: 1, body: "first" });
		const profile = await ok<Profile>(await as(bob, "GET", `/users/${alice.userId}`));
		expect(profile).toMatchObject({ followers_count: 1, following_count: 0, posts_count: 1 });
		const likes = await ok<{ likes: { user_id: string }[] }>(await as(alice, "GET", `/posts/${p.id}/likes`));
		expect(likes.likes.map((l) => l.user_id)).toEqual([bob.userId]);
		const followers = await ok<{ users: { user_id: string }[] }>(
			await as(alice, "GET", `/users/${alice.userId}/followers`),
		);
		expect(followers.users.map((u) => u.user_id)).toEqual([bob.userId]);
		const following = await ok<{ users: { user_id: string }[] }>(
			await as(alice, "GET", `/users/${bob.userId}/following`),
		);
		expect(following.users.map((u) => u.user_id)).toEqual([alice.userId]);

		expect((await ok<{ like_count: number }>(await as(bob, "DELETE", `/posts/${p.id}/like`))).like_count).toBe(0);
		expect((await ok<{ like_count: number }>(await as(bob, "DELETE", `/posts/${p.id}/like`))).like_count).toBe(0);
		expect((await as(bob, "DELETE", `/comments/${comment.id}`)).status).toBe(204);
		expect((await ok<Post>(await as(bob, "GET", `/posts/${p.id}`))).comment_count).toBe(0);
		await ok(await as(bob, "DELETE", `/users/${alice.userId}/follow`));
		await ok(await as(bob, "DELETE", `/users/${alice.userId}/follow`));
		expect((await ok<Profile>(await as(bob, "GET", `/users/${alice.userId}`))).followers_count).toBe(0);
	});

	it("lets only authors edit or delete their posts, comments and profile (403)", async () => {
		const { users } = await socialTenant(2);
		const [alice, mallory] = [users[0]!, users[1]!];
		const p = await post(alice, "mine");
		const res = await as(mallory, "PUT", `/posts/${p.id}`, { body: "hacked" });
		expect(res.status).toBe(403);
		expect(await errorCode(res)).toBe("forbidden");
		expect((await as(mallory, "DELETE", `/posts/${p.id}`)).status).toBe(403);
		const c = await ok<{ id: string }>(await as(alice, "POST", `/posts/${p.id}/comments`, { body: "c" }), 201);
		expect((await as(mallory, "DELETE", `/comments/${c.id}`)).status).toBe(403);
		expect((await as(mallory, "PUT", `/users/${alice.userId}`, { bio: "x" })).status).toBe(403);
		expect((await ok<Profile>(await as(alice, "PUT", `/users/${alice.userId}`, { bio: "hi" }))).bio).toBe("hi");
		expect((await ok<Post>(await as(alice, "PUT", `/posts/${p.id}`, { body: "edited" }))).body).toBe("edited");
		expect((await as(alice, "DELETE", `/posts/${p.id}`)).status).toBe(204);
		expect((await as(alice, "GET", `/posts/${p.id}`)).status).toBe(404);
		expect((await ok<Profile>(await as(alice, "GET", `/users/${alice.userId}`))).posts_count).toBe(0);
	});

	it("rejects bad input, self-follows and requests without a token", async () => {
		const { users } = await socialTenant(1);
		const [alice] = [users[0]!];
		expect((await as(alice, "POST", "/posts", { body: "" })).status).toBe(400);
		expect((await as(alice, "POST", "/posts", { body: "x".repeat(5_001) })).status).toBe(400);
		expect((await as(alice, "GET", "/posts?limit=101")).status).toBe(400);
		expect((await as(alice, "GET", "/posts?cursor=bogus")).status).toBe(400);
		expect((await as(alice, "GET", "/timeline/home?ranking=hot")).status).toBe(400);
		expect((await as(alice, "POST", `/users/${alice.userId}/follow`)).status).toBe(422);
		expect((await as(alice, "GET", "/users/usr_nope")).status).toBe(404);
		expect((await as(alice, "POST", "/posts/pst_nope/like")).status).toBe(404);
		expect((await as({ userId: alice.userId, token: "bad" }, "GET", "/timeline/home")).status).toBe(401);
	});

	it("pages a user's posts with a cursor, newest first", async () => {
		const { users } = await socialTenant(1);
		const [alice] = [users[0]!];
		const made: string[] = [];
		for (let i = 0; i < 5; i++) made.push((await post(alice, `p${i}`)).id);
		const seen: string[] = [];
		let cursor: string | null = "";
		while (cursor !== null) {
			const page: Page = await ok<Page>(
				await as(alice, "GET", `/posts?user_id=${alice.userId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`),
			);
			expect(page.posts.length).toBeLessThanOrEqual(2);
			seen.push(...page.posts.map((p) => p.id));
			cursor = page.next_cursor;
		}
		expect(seen).toEqual(made.toReversed());
		const timeline = await ok<Page>(await as(alice, "GET", `/timeline/user/${alice.userId}?limit=3`));
		expect(timeline.posts.map((p) => p.id)).toEqual(made.slice(2).toReversed());
	});

	it("keeps like and comment counters exact under 50 concurrent likes and duplicates", async () => {
		const { users } = await socialTenant(26);
		const author = users[0]!;
		const likers = users.slice(1);
		const p = await post(author, "popular");
		// 25 users like twice each, all at once: 50 concurrent requests, 25 distinct likes.
		const results = await Promise.all([...likers, ...likers].map((u) => as(u, "POST", `/posts/${p.id}/like`)));
		expect(results.every((r) => r.status === 200)).toBe(true);
		await Promise.all(likers.slice(0, 10).map((u) => as(u, "POST", `/posts/${p.id}/comments`, { body: "c" })));
		const got = await ok<Post>(await as(author, "GET", `/posts/${p.id}`));
		expect(got.like_count).toBe(25);
		expect(got.comment_count).toBe(10);
		await Promise.all(
			[...likers.slice(0, 5), ...likers.slice(0, 5)].map((u) => as(u, "DELETE", `/posts/${p.id}/like`)),
		);
		expect((await ok<Post>(await as(author, "GET", `/posts/${p.id}`))).like_count).toBe(20);
	});
});
