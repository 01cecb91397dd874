import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleNotificationsDeadLetterBatch } from "../../../queues/notifications-dlq";
import { call, createTenant, sleep } from "../helpers";
import { N, channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

type Letter = { delivery_id: string; notification_id: string; status: string; reason: string | null; attempts: number };
type Page = { dead_letters: Letter[]; next_cursor: string | null };

/** A notification whose in-app attempt message went to the DLQ (the consumer marks it failed). */
async function deadLettered(tenantId: string, apiKey: string, user: string): Promise<{ id: string; delivery: string }> {
	const id = await send(apiKey, {
		recipient: { user_id: user },
		channels: ["in_app"],
		deliver_after: new Date(Date.now() + 3_600_000).toISOString(),
	});
	const row = await env.DB.prepare("SELECT id FROM notification_deliveries WHERE tenant_id = ? AND notification_id = ?")
		.bind(tenantId, id)
		.first<{ id: string }>();
	const delivery = row?.id ?? "";
	const batch = createMessageBatch<unknown>("floodgate-notifications-dlq", [
		{
			id: `m-${delivery}`,
			timestamp: new Date(),
			attempts: 6,
			body: { kind: "attempt", tenant_id: tenantId, delivery_id: delivery, attempt: 1 },
		},
	]);
	const ctx = createExecutionContext();
	await handleNotificationsDeadLetterBatch(batch, env, ctx);
	expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
	return { id, delivery };
}

async function list(apiKey: string, query = ""): Promise<Page> {
	const res = await call("GET", `${N}/dead-letters${query}`, { token: apiKey });
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<Page>();
}

describe("notification dead letters", () => {
	it("lists failed deliveries newest first with a cursor, and replays one into the inbox", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const first = await deadLettered(tenantId, apiKey, "u-dl");
		await sleep(5);
		const second = await deadLettered(tenantId, apiKey, "u-dl");
		const page1 = await list(apiKey, "?limit=1");
		expect(page1.dead_letters).toEqual([
			expect.objectContaining({ delivery_id: second.delivery, status: "failed", reason: "processing failed 6 times" }),
		]);
		const page2 = await list(apiKey, `?limit=1&cursor=${page1.next_cursor ?? ""}`);
		expect(page2.dead_letters.map((l) => l.delivery_id)).toEqual([first.delivery]);
		expect(page2.next_cursor).toBeNull();
		expect((await call("GET", `${N}/dead-letters?cursor=nonsense`, { token: apiKey })).status).toBe(400);

		const replay = await call("POST", `${N}/dead-letters/${first.delivery}/replay`, { token: apiKey });
		expect(replay.status, await replay.clone().text()).toBe(202);
		expect(await replay.json()).toMatchObject({
			status: "queued",
			attempts: 0,
			reason: "replayed from the dead letters",
		});
		await waitForNotification(apiKey, first.id, (v) => channel(v, "in_app")?.status === "delivered");
		const inbox = await call("GET", `${N}/users/u-dl/inbox`, { token: apiKey });
		expect((await inbox.json<{ items: { id: string }[] }>()).items.map((i) => i.id)).toEqual([first.id]);
		expect((await list(apiKey)).dead_letters.map((l) => l.delivery_id)).toEqual([second.delivery]);
		// Delivered now: no longer a dead letter.
		const again = await call("POST", `${N}/dead-letters/${first.delivery}/replay`, { token: apiKey });
		expect(again.status).toBe(409);
		expect(channel(await getNotification(apiKey, first.id), "in_app")?.attempts).toBe(1);
	});

	it("answers 404 for another tenant's dead letter and an unknown id, and lists only the tenant's own", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await putTemplate(a.apiKey);
		const mine = await deadLettered(a.tenantId, a.apiKey, "u-iso");
		const theirs = await call("POST", `${N}/dead-letters/${mine.delivery}/replay`, { token: b.apiKey });
		expect(theirs.status).toBe(404);
		const unknown = await call("POST", `${N}/dead-letters/ndl_${"0".repeat(24)}/replay`, { token: a.apiKey });
		expect(unknown.status).toBe(404);
		expect((await list(b.apiKey)).dead_letters).toEqual([]);
		expect(channel(await getNotification(a.apiKey, mine.id), "in_app")?.status).toBe("failed");
	});
});
