import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { as, feedRows, follow, home, ok, post, putSettings, socialTenant, waitFor } from "./social-helpers";
import type { Page } from "./social-helpers";

const DAY_MS = 86_400_000;

describe("news feed", () => {
	it("fans a post out through the queue into every follower's feed", async () => {
		const { tenantId, users } = await socialTenant(4);
		const [author, ...followers] = users as [(typeof users)[0], ...typeof users];
		for (const f of followers) await follow(f, author);
		const p = await post(author, "to my followers");
		for (const f of followers) {
			await waitFor(async () => ((await feedRows(tenantId, f.userId, p.id)) === 1 ? true : undefined));
			expect((await home(f)).posts.map((x) => x.id)).toEqual([p.id]);
		}
		// Not a follower: nothing fanned out to the author's own feed, but the author sees their post.
		expect(await feedRows(tenantId, author.userId, p.id)).toBe(0);
		expect((await home(author)).posts.map((x) => x.id)).toEqual([p.id]);
	});

	it("merges a celebrity's posts in on read instead of fanning them out", async () => {
		const { tenantId, apiKey, users } = await socialTenant(4);
		await putSettings(apiKey, { celebrity_threshold: 2 });
		const [star, fan1, fan2, other] = [users[0]!, users[1]!, users[2]!, users[3]!];
		const regular = other;
		await follow(fan1, star);
		await follow(fan2, star);
		await follow(fan1, regular);
		const starPost = await post(star, "from the star");
		const regularPost = await post(regular, "from a regular");
		await waitFor(async () => ((await feedRows(tenantId, fan1.userId, regularPost.id)) === 1 ? true : undefined));
		expect(await feedRows(tenantId, fan1.userId, starPost.id)).toBe(0);
		expect(await feedRows(tenantId, fan2.userId, starPost.id)).toBe(0);
		expect((await home(fan1)).posts.map((x) => x.id)).toEqual([regularPost.id, starPost.id]);
		expect((await home(fan2)).posts.map((x) => x.id)).toEqual([starPost.id]);
	});

	it("skips followers inactive for 30 days at fan-out and rebuilds their feed on the next read", async () => {
		const { tenantId, users } = await socialTenant(3);
		const [author, active, sleeper] = [users[0]!, users[1]!, users[2]!];
		await follow(active, author);
		await follow(sleeper, author);
		await env.DB.prepare(`UPDATE social_profiles SET last_active_at = ? WHERE tenant_id = ? AND user_id = ?`)
			.bind(Date.now() - 31 * DAY_MS, tenantId, sleeper.userId)
			.run();
		const p = await post(author, "while you slept");
		await waitFor(async () => ((await feedRows(tenantId, active.userId, p.id)) === 1 ? true : undefined));
		expect(await feedRows(tenantId, sleeper.userId, p.id)).toBe(0);
		expect((await home(sleeper)).posts.map((x) => x.id)).toEqual([p.id]);
		expect(await feedRows(tenantId, sleeper.userId, p.id)).toBe(1);
	});

	it("caps a feed at feed_cap entries, dropping the oldest", async () => {
		const { tenantId, apiKey, users } = await socialTenant(2);
		await putSettings(apiKey, { feed_cap: 10 });
		const [author, reader] = [users[0]!, users[1]!];
		await follow(reader, author);
		const ids: string[] = [];
		for (let i = 0; i < 12; i++) ids.push((await post(author, `n${i}`)).id);
		await waitFor(async () => ((await feedRows(tenantId, reader.userId, ids[11]!)) === 1 ? true : undefined));
		const count = await env.DB.prepare(`SELECT COUNT(*) AS n FROM social_feed WHERE tenant_id = ? AND user_id = ?`)
			.bind(tenantId, reader.userId)
			.first<{ n: number }>();
		expect(count?.n).toBe(10);
		expect(await feedRows(tenantId, reader.userId, ids[0]!)).toBe(0);
	});

	it("ranks by engagement and the reader's affinity with ranking=top, by time with latest", async () => {
		const { tenantId, apiKey, users } = await socialTenant(5);
		await putSettings(apiKey, { weights: { recency: 1, likes: 1, comments: 1, affinity: 2 } });
		const [reader, loved, popular, plain, liker] = [users[0]!, users[1]!, users[2]!, users[3]!, users[4]!];
		for (const a of [loved, popular, plain]) await follow(reader, a);
		const old = await post(loved, "older post of a loved author");
		// The reader liked and commented on `loved` before: affinity 2.
		await ok(await as(reader, "POST", `/posts/${old.id}/like`));
		await ok(await as(reader, "POST", `/posts/${old.id}/comments`, { body: "love it" }), 201);
		const pop = await post(popular, "popular");
		const lovedNew = await post(loved, "new from loved");
		const plainNew = await post(plain, "plain and newest");
		await ok(await as(liker, "POST", `/posts/${pop.id}/like`));
		await ok(await as(liker, "POST", `/posts/${pop.id}/comments`, { body: "wow" }), 201);
		await waitFor(async () => ((await feedRows(tenantId, reader.userId, plainNew.id)) === 1 ? true : undefined));
		await waitFor(async () => ((await home(reader)).posts.length === 4 ? true : undefined));
		const latest = await home(reader, "?ranking=latest");
		expect(latest.posts.map((p) => p.id)).toEqual([plainNew.id, lovedNew.id, pop.id, old.id]);
		// Scores (age ≈ 0): old 1 + ln2 + ln2 + 2 ln3; lovedNew 1 + 2 ln3; pop 1 + ln2 + ln2; plain 1.
		const top = await home(reader, "?ranking=top");
		expect(top.posts.map((p) => p.id)).toEqual([old.id, lovedNew.id, pop.id, plainNew.id]);
		const first = await home(reader, "?ranking=top&limit=3");
		expect(first.next_cursor).toBe("top.3");
		const rest = await home(reader, `?ranking=top&limit=3&cursor=${first.next_cursor}`);
		expect(rest.posts.map((p) => p.id)).toEqual([plainNew.id]);
		expect(rest.next_cursor).toBeNull();
	});

	it("pages the latest home timeline with a keyset cursor", async () => {
		const { users } = await socialTenant(1);
		const [alice] = [users[0]!];
		const ids: string[] = [];
		for (let i = 0; i < 5; i++) ids.push((await post(alice, `h${i}`)).id);
		const seen: string[] = [];
		let cursor: string | null = "";
		while (cursor !== null) {
			const page: Page = await home(alice, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
			seen.push(...page.posts.map((p) => p.id));
			cursor = page.next_cursor;
		}
		expect(seen).toEqual(ids.toReversed());
	});

	it("streams a new post from a followed author over SSE", async () => {
		const { users } = await socialTenant(2);
		const [author, reader] = [users[0]!, users[1]!];
		await follow(reader, author);
		const res = await as(reader, "GET", "/timeline/home/stream?seconds=10");
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toContain("text/event-stream");
		const reader$ = res.body!.getReader();
		const decoder = new TextDecoder();
		let text = "";
		const p = await post(author, "live");
		while (!text.includes(p.id)) {
			const chunk = await reader$.read();
			if (chunk.done) break;
			text += decoder.decode(chunk.value);
		}
		await reader$.cancel();
		expect(text).toContain("event: ready");
		expect(text).toContain(`event: post\nid: ${p.id}`);
	});

	it("refuses a sixth open stream for the same user with 429", async () => {
		const { users } = await socialTenant(1);
		const [reader] = [users[0]!];
		const open = await Promise.all(
			Array.from({ length: 5 }, () => as(reader, "GET", "/timeline/home/stream?seconds=5")),
		);
		expect(open.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
		const sixth = await as(reader, "GET", "/timeline/home/stream?seconds=5");
		expect(sixth.status).toBe(429);
		expect((await sixth.json<{ error: { code: string } }>()).error.code).toBe("too_many_streams");
		for (const r of open) if (r.body) await r.body.cancel();
	});
});
