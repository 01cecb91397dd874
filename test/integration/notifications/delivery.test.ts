import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../../src/delivery/engine";
import { notificationAdapter } from "../../../src/notifications/adapter";
import { handleNotificationsBatch } from "../../../queues/notifications";
import { handleNotificationsDeadLetterBatch } from "../../../queues/notifications-dlq";
import { call, createTenant } from "../helpers";
import { channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

async function deliveryId(tenantId: string, notificationId: string, name: string): Promise<string> {
	const row = await env.DB.prepare(
		"SELECT id FROM notification_deliveries WHERE tenant_id = ? AND notification_id = ? AND channel = ?",
	)
		.bind(tenantId, notificationId, name)
		.first<{ id: string }>();
	return row?.id ?? "";
}

async function mailCount(apiKey: string): Promise<number> {
	const res = await call("GET", "/api/v1/email/sandbox/messages", { token: apiKey });
	return (await res.json<{ messages: unknown[] }>()).messages.length;
}

describe("delivery guarantees", () => {
	it("never sends twice when the queue redelivers an attempt message", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const id = await send(apiKey, { recipient: { user_id: "u-re", email: "re@example.com" }, channels: ["email"] });
		await waitForNotification(apiKey, id, (v) => channel(v, "email")?.status === "sent");
		const body = {
			kind: "attempt",
			tenant_id: tenantId,
			delivery_id: await deliveryId(tenantId, id, "email"),
			attempt: 1,
		};
		const batch = createMessageBatch<unknown>("floodgate-notifications", [
			{ id: "r1", timestamp: new Date(), attempts: 2, body },
			{ id: "r2", timestamp: new Date(), attempts: 2, body },
			{ id: "bad", timestamp: new Date(), attempts: 1, body: { kind: "nonsense" } },
		]);
		const ctx = createExecutionContext();
		await handleNotificationsBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks.sort()).toEqual(["bad", "r1", "r2"]);
		expect(result.retryMessages).toEqual([]);
		expect(await mailCount(apiKey)).toBe(1);
		expect(channel(await getNotification(apiKey, id), "email")).toMatchObject({ status: "sent", attempts: 1 });
	});

	it("retries a transient provider failure with backoff; a duplicate of the retry is stale", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		// The sandbox answers a transient 503 to a flaky+ address's first attempt.
		const id = await send(apiKey, {
			recipient: { user_id: "u-flaky", email: "flaky+1@example.com" },
			channels: ["email"],
		});
		const failed = await waitForNotification(
			apiKey,
			id,
			(v) => channel(v, "email")?.attempts === 1 && channel(v, "email")?.status === "queued",
		);
		const retry = channel(failed, "email");
		expect(Date.parse(retry?.deliver_at ?? "") - Date.now()).toBeGreaterThan(1_000);
		expect(retry?.last_error).toBe("sandbox: simulated 503 (flaky)");
		// The engine's own retry (about 5 s later) sends it; a duplicate of that message is stale.
		await waitForNotification(apiKey, id, (v) => channel(v, "email")?.status === "sent", 10_000);
		const msg = {
			kind: "attempt" as const,
			tenant_id: tenantId,
			delivery_id: await deliveryId(tenantId, id, "email"),
			attempt: 2,
		};
		expect(await runAttempt(env, notificationAdapter, msg)).toBe("stale");
		expect(channel(await getNotification(apiKey, id), "email")).toMatchObject({ status: "sent", attempts: 2 });
		expect(await mailCount(apiKey)).toBe(1);
	});

	it("marks a channel failed with the reason when its message is dead-lettered", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const id = await send(apiKey, {
			recipient: { user_id: "u-dead" },
			channels: ["in_app"],
			deliver_after: new Date(Date.now() + 3_600_000).toISOString(),
		});
		const body = {
			kind: "attempt",
			tenant_id: tenantId,
			delivery_id: await deliveryId(tenantId, id, "in_app"),
			attempt: 1,
		};
		const batch = createMessageBatch<unknown>("floodgate-notifications-dlq", [
			{ id: "d1", timestamp: new Date(), attempts: 6, body },
		]);
		const ctx = createExecutionContext();
		await handleNotificationsDeadLetterBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["d1"]);
		expect(channel(await getNotification(apiKey, id), "in_app")).toMatchObject({
			status: "failed",
			reason: "processing failed 6 times",
		});
	});
});
