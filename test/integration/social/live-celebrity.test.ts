import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SOCIAL_LIMITS } from "../../../src/social/domain";
import type { FollowKey } from "../../../src/social/domain";
import { openStreamFollowers } from "../../../src/social/feed-db";
import { as, feedRows, follow, post, putSettings, socialTenant } from "./social-helpers";
import type { SocialUser } from "./social-helpers";

/** An open home stream and the text it has received so far. */
type Stream = { text: () => string; close: () => Promise<void> };

async function openStream(user: SocialUser): Promise<Stream> {
	const res = await as(user, "GET", "/timeline/home/stream?seconds=20");
	expect(res.status).toBe(200);
	const reader = res.body!.getReader();
	const decoder = new TextDecoder();
	let text = "";
	const state = { closed: false };
	void (async () => {
		while (!state.closed) {
			const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
			if (chunk.done) return;
			text += decoder.decode(chunk.value);
		}
	})();
	await until(() => text.includes("event: ready"), 5000);
	return {
		text: () => text,
		close: async () => {
			state.closed = true;
			await reader.cancel().catch(() => undefined);
		},
	};
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (check()) return true;
		await new Promise((r) => setTimeout(r, 50));
	}
	return check();
}

describe("live delivery of celebrity posts", () => {
	it("streams a celebrity's post to a follower's open stream, not to a non-follower or another tenant", async () => {
		const { tenantId, apiKey, users } = await socialTenant(4);
		await putSettings(apiKey, { celebrity_threshold: 2 });
		const [star, fan, otherFan, stranger] = [users[0]!, users[1]!, users[2]!, users[3]!];
		await follow(fan, star);
		await follow(otherFan, star);
		const elsewhere = (await socialTenant(1)).users[0]!;
		const streams = await Promise.all([fan, stranger, elsewhere].map((u) => openStream(u)));
		const [fanStream, strangerStream, elsewhereStream] = [streams[0]!, streams[1]!, streams[2]!];
		try {
			const p = await post(star, "live from the star");
			expect(await until(() => fanStream.text().includes(`event: post\nid: ${p.id}`), 10_000)).toBe(true);
			// Merged on read, never fanned out: the event came from the live walk.
			expect(await feedRows(tenantId, fan.userId, p.id)).toBe(0);
			await new Promise((r) => setTimeout(r, 1500));
			expect(strangerStream.text()).not.toContain(p.id);
			expect(elsewhereStream.text()).not.toContain(p.id);
		} finally {
			await Promise.all(streams.map((s) => s.close()));
		}
	});

	it("walks every follower with an open stream exactly once, a capped page at a time", async () => {
		const { tenantId } = await socialTenant(0);
		const now = Date.now();
		const statements = [];
		for (let i = 0; i < 9; i++) {
			const user = `usr_live${i}`;
			statements.push(
				env.DB.prepare(
					`INSERT INTO social_follows (tenant_id, follower_id, followee_id, created_at) VALUES (?, ?, 'usr_star', ?)`,
				).bind(tenantId, user, now + (i % 3)),
				env.DB.prepare(
					`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at, stream_until) VALUES (?, ?, ?, ?, ?)`,
				).bind(tenantId, user, now, now, i % 4 === 0 ? now - 1000 : now + 60_000),
			);
		}
		await env.DB.batch(statements);
		const seen: string[] = [];
		let after: FollowKey | null = null;
		let steps = 0;
		do {
			const page = await openStreamFollowers(env.DB, tenantId, "usr_star", after, { scan: 3, publish: 2 }, now);
			expect(page.users.length).toBeLessThanOrEqual(2);
			seen.push(...page.users);
			after = page.next;
			steps++;
		} while (after !== null && steps < 20);
		// Users 0, 4 and 8 have no open stream.
		expect(seen.toSorted()).toEqual(["usr_live1", "usr_live2", "usr_live3", "usr_live5", "usr_live6", "usr_live7"]);
		const other = await openStreamFollowers(env.DB, "ten_other", "usr_star", null, { scan: 100, publish: 100 }, now);
		expect(other).toEqual({ users: [], next: null });
		expect(SOCIAL_LIMITS.livePublish).toBeLessThan(100);
	});
});
