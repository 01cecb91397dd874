import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepRetention } from "../../../src/platform/retention";
import { socialRetentionTargets } from "../../../src/social/retention";
import { as, feedRows, follow, home, ok, post, socialTenant, waitFor } from "./social-helpers";

const DAY_MS = 86_400_000;

describe("feed rows over time", () => {
	it("drops an author's rows from the feed on unfollow", async () => {
		const { tenantId, users } = await socialTenant(2);
		const [author, reader] = [users[0]!, users[1]!];
		await follow(reader, author);
		const p = await post(author, "soon gone");
		await waitFor(async () => ((await feedRows(tenantId, reader.userId, p.id)) === 1 ? true : undefined));
		await ok(await as(reader, "DELETE", `/users/${author.userId}/follow`));
		expect(await feedRows(tenantId, reader.userId, p.id)).toBe(0);
		expect((await home(reader)).posts).toEqual([]);
	});

	it("expires feed rows older than 30 days and keeps newer ones", async () => {
		const { tenantId, users } = await socialTenant(2);
		const [author, reader] = [users[0]!, users[1]!];
		await follow(reader, author);
		const p = await post(author, "fresh");
		await waitFor(async () => ((await feedRows(tenantId, reader.userId, p.id)) === 1 ? true : undefined));
		await env.DB.prepare(
			`INSERT INTO social_feed (tenant_id, user_id, post_id, author_id, created_at) VALUES (?, ?, 'pst_old', ?, ?)`,
		)
			.bind(tenantId, reader.userId, author.userId, Date.now() - 31 * DAY_MS)
			.run();
		await sweepRetention(socialRetentionTargets(env, Date.now()));
		expect(await feedRows(tenantId, reader.userId, "pst_old")).toBe(0);
		expect(await feedRows(tenantId, reader.userId, p.id)).toBe(1);
	});
});
