import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleFeedDeadLetterBatch } from "../../../queues/feed";
import { call, json } from "../helpers";
import { feedRows, follow, post, putSettings, socialTenant, waitFor } from "./social-helpers";

type Letter = { id: string; queue: string; message_id: string; tenant_id: string | null; kind: string | null };

async function deadLetter(bodies: unknown[]): Promise<string[]> {
	const ids = bodies.map((_b, i) => `dead-feed-${Date.now()}-${i}-${Math.random()}`);
	const batch = createMessageBatch(
		"floodgate-feed-dlq",
		bodies.map((body, i) => ({ id: ids[i] ?? "", timestamp: new Date(), attempts: 11, body })),
	);
	const ctx = createExecutionContext();
	await handleFeedDeadLetterBatch(batch, env, ctx);
	expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
	return ids.map((id) => `feed:${id}`);
}

async function listed(query: string): Promise<Letter[]> {
	const res = await call("GET", `/api/v1/dead-letters?${query}`, { token: env.ADMIN_TOKEN });
	expect(res.status).toBe(200);
	return (await json(res)).dead_letters as Letter[];
}

describe("feed dead letters", () => {
	it("keeps a dead fan-out slice for operators and replays it into the follower's feed", async () => {
		const { tenantId, apiKey, users } = await socialTenant(2);
		const [author, reader] = [users[0]!, users[1]!];
		// A celebrity's post is never fanned out, so the only way into the reader's feed is the replay.
		await putSettings(apiKey, { celebrity_threshold: 1 });
		await follow(reader, author);
		const p = await post(author, "lost in the queue");
		const slice = {
			tenant_id: tenantId,
			post_id: p.id,
			author_id: author.userId,
			created_at: Date.now(),
			feed_cap: 800,
			followers: [reader.userId],
		};
		const [messageId] = await deadLetter([slice]);

		const letters = await listed(`queue=floodgate-feed&tenant_id=${tenantId}`);
		expect(letters).toEqual([
			expect.objectContaining({ queue: "floodgate-feed", message_id: messageId, tenant_id: tenantId, kind: "fanout" }),
		]);
		expect(await listed(`queue=floodgate-telemetry&tenant_id=${tenantId}`)).toEqual([]);
		const id = letters[0]?.id ?? "";
		expect((await call("POST", `/api/v1/dead-letters/${id}/replay`, { token: "not-admin" })).status).toBe(401);
		expect(await feedRows(tenantId, reader.userId, p.id)).toBe(0);

		const replay = await call("POST", `/api/v1/dead-letters/${id}/replay`, { token: env.ADMIN_TOKEN });
		expect(replay.status).toBe(202);
		expect(await json(replay)).toMatchObject({ id, queue: "floodgate-feed", replay_count: 1 });
		await waitFor(async () => ((await feedRows(tenantId, reader.userId, p.id)) === 1 ? true : undefined));
		expect((await call("POST", `/api/v1/dead-letters/${id}/replay`, { token: env.ADMIN_TOKEN })).status).toBe(409);
		expect(await listed(`queue=floodgate-feed&tenant_id=${tenantId}`)).toEqual([]);
		expect(await listed(`queue=floodgate-feed&tenant_id=${tenantId}&status=replayed`)).toHaveLength(1);
	});

	it("keeps a body that is not a feed message but refuses to replay it", async () => {
		const [messageId] = await deadLetter([{ tenant_id: "ten_x", followers: "not a list" }]);
		const letter = (await listed("queue=floodgate-feed&limit=200")).find((l) => l.message_id === messageId);
		expect(letter).toMatchObject({ tenant_id: null, kind: null });
		const res = await call("POST", `/api/v1/dead-letters/${letter?.id ?? ""}/replay`, { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(422);
		expect(await json(res)).toMatchObject({ error: { code: "not_replayable" } });
	});

	it("rejects an unknown queue filter", async () => {
		const res = await call("GET", "/api/v1/dead-letters?queue=floodgate-nope", { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(400);
	});
});
