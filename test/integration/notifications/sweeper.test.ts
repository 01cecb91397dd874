import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleNotificationsBatch } from "../../../queues/notifications";
import worker from "../../../src/index";
import { GRACE_MS, STALL_MS, SWEEP_LIMIT, sweepStrandedNotifications } from "../../../src/notifications/sweeper";
import { call, createTenant, sleep } from "../helpers";
import { channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

const HOUR = 3_600_000;

async function mailCount(apiKey: string): Promise<number> {
	const res = await call("GET", "/api/v1/email/sandbox/messages", { token: apiKey });
	return (await res.json<{ messages: unknown[] }>()).messages.length;
}

async function deliveryOf(tenantId: string, notificationId: string): Promise<string> {
	const row = await env.DB.prepare("SELECT id FROM notification_deliveries WHERE tenant_id = ? AND notification_id = ?")
		.bind(tenantId, notificationId)
		.first<{ id: string }>();
	return row?.id ?? "";
}

/**
 * An email notification stored through the real send path, due in an hour (so its delayed message
 * stays in the queue for the whole test): as good as a message never sent. Its delivery id.
 */
async function storedEmail(apiKey: string, tenantId: string, user: string): Promise<{ id: string; ntf: string }> {
	const ntf = await send(apiKey, {
		recipient: { user_id: user, email: `${user}@example.com` },
		channels: ["email"],
		deliver_after: new Date(Date.now() + HOUR).toISOString(),
	});
	return { id: await deliveryOf(tenantId, ntf), ntf };
}

async function setRow(id: string, set: string, ...values: number[]): Promise<void> {
	await env.DB.prepare(`UPDATE notification_deliveries SET ${set} WHERE id = ?`)
		.bind(...values, id)
		.run();
}

describe("the stranded notification sweep", () => {
	it("re-enqueues a queued delivery whose message was never sent, once, and it is sent once even beside its original message", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const { id, ntf } = await storedEmail(apiKey, tenantId, "u-sw1");
		// Due 10 min ago, untouched since: its message was never sent.
		const then = Date.now() - 10 * 60_000;
		await setRow(id, "deliver_at = ?, updated_at = ?", then, then);

		expect(await sweepStrandedNotifications(env)).toEqual({ requeued: 1, stalled: 0 });
		expect(await sweepStrandedNotifications(env)).toEqual({ requeued: 0, stalled: 0 });
		// The original message turns up as well.
		const batch = createMessageBatch<unknown>("floodgate-notifications", [
			{
				id: "orig",
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: id, attempt: 1 },
			},
		]);
		const ctx = createExecutionContext();
		await handleNotificationsBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["orig"]);

		await waitForNotification(apiKey, ntf, (v) => channel(v, "email")?.status === "sent");
		await sleep(300);
		expect(channel(await getNotification(apiKey, ntf), "email")).toMatchObject({ status: "sent", attempts: 1 });
		expect(await mailCount(apiKey)).toBe(1);
	});

	it("re-enqueues a due retry whose message was never sent, as the next attempt", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const { id, ntf } = await storedEmail(apiKey, tenantId, "u-sw2");
		// Attempt 1 failed; its retry was due 10 min ago but the send after the write failed.
		const then = Date.now() - 10 * 60_000;
		await setRow(id, "attempts = 1, deliver_at = ?, updated_at = ?", then, then);

		expect(await sweepStrandedNotifications(env)).toEqual({ requeued: 1, stalled: 0 });
		await waitForNotification(apiKey, ntf, (v) => channel(v, "email")?.status === "sent");
		expect(channel(await getNotification(apiKey, ntf), "email")).toMatchObject({ status: "sent", attempts: 2 });
		expect(await mailCount(apiKey)).toBe(1);
	});

	it("leaves alone deliveries due later, inside the grace, digested, suppressed or finished", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const now = Date.now();
		const long = now - 2 * GRACE_MS;
		const rows = await Promise.all(["a", "b", "c", "d", "e", "f"].map((u) => storedEmail(apiKey, tenantId, `u-g${u}`)));
		const [later, recentDue, recentTouch, digested, suppressed, sent] = rows.map((r) => r.id);
		// deliver_after / quiet hours: due in an hour, stored long ago.
		await setRow(later ?? "", "deliver_at = ?, updated_at = ?", now + HOUR, long);
		// Due 1 min ago (< GRACE_MS): its delayed message is arriving.
		await setRow(recentDue ?? "", "deliver_at = ?, updated_at = ?", now - 60_000, long);
		// Due long ago, but touched 1 min ago (a retry just stored, or swept already).
		await setRow(recentTouch ?? "", "deliver_at = ?, updated_at = ?", long, now - 60_000);
		await setRow(digested ?? "", "status = 'digested', deliver_at = ?, updated_at = ?", long, long);
		await setRow(suppressed ?? "", "status = 'suppressed', deliver_at = ?, updated_at = ?", long, long);
		await setRow(sent ?? "", "status = 'sent', attempts = 1, deliver_at = ?, updated_at = ?", long, long);

		expect(await sweepStrandedNotifications(env, now)).toEqual({ requeued: 0, stalled: 0 });
		// Past the grace, the two queued and due ones are stranded; the one due in an hour is not.
		expect(await sweepStrandedNotifications(env, now + GRACE_MS + 1)).toEqual({ requeued: 2, stalled: 0 });
		await waitForNotification(apiKey, rows[1]?.ntf ?? "", (v) => channel(v, "email")?.status === "sent");
		await waitForNotification(apiKey, rows[2]?.ntf ?? "", (v) => channel(v, "email")?.status === "sent");
		expect(channel(await getNotification(apiKey, rows[0]?.ntf ?? ""), "email")?.status).toBe("queued");
	});

	it("takes at most its bound per run, the earliest due first, and the rest on the next runs", async () => {
		expect(SWEEP_LIMIT).toBeLessThanOrEqual(500);
		const { tenantId } = await createTenant();
		const old = Date.now() - HOUR;
		const count = 7;
		// Deliveries of a notification that is gone: the consumer ends each without sending.
		for (let i = 0; i < count; i++) {
			await env.DB.prepare(
				`INSERT INTO notification_deliveries (id, tenant_id, notification_id, channel, priority, status, attempts, deliver_at, updated_at)
				 VALUES (?, ?, ?, 'email', 'normal', 'queued', 0, ?, ?)`,
			)
				.bind(`ndl_bound_${i}`, tenantId, `ntf_gone_${i}`, old + i, old)
				.run();
		}
		expect(await sweepStrandedNotifications(env, Date.now(), 3)).toEqual({ requeued: 3, stalled: 0 });
		const swept = await env.DB.prepare(
			"SELECT id FROM notification_deliveries WHERE tenant_id = ? AND updated_at > ? ORDER BY id",
		)
			.bind(tenantId, old)
			.all<{ id: string }>();
		expect(swept.results.map((r) => r.id)).toEqual(["ndl_bound_0", "ndl_bound_1", "ndl_bound_2"]);
		expect(await sweepStrandedNotifications(env, Date.now(), 3)).toEqual({ requeued: 3, stalled: 0 });
		expect(await sweepStrandedNotifications(env, Date.now(), 3)).toEqual({ requeued: 1, stalled: 0 });
		const until = Date.now() + 8_000;
		for (;;) {
			const failed = await env.DB.prepare(
				"SELECT COUNT(*) AS n FROM notification_deliveries WHERE tenant_id = ? AND status = 'failed'",
			)
				.bind(tenantId)
				.first<{ n: number }>();
			if (failed?.n === count) break;
			if (Date.now() > until) throw new Error(`${failed?.n ?? 0} of ${count} ended`);
			await sleep(50);
		}
	});

	it("runs on the every-minute cron", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const { id, ntf } = await storedEmail(apiKey, tenantId, "u-sw5");
		const then = Date.now() - 10 * 60_000;
		await setRow(id, "deliver_at = ?, updated_at = ?", then, then);
		const ctx = createExecutionContext();
		await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);
		await waitForNotification(apiKey, ntf, (v) => channel(v, "email")?.status === "sent");
		expect(await mailCount(apiKey)).toBe(1);
	});
});

describe("the sweep of sends whose consumer died", () => {
	it("hands a delivery left `sending` past STALL_MS back for its next attempt; the provider's idempotency key absorbs the repeat; a young one is left", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		const sent = await send(apiKey, {
			recipient: { user_id: "u-stall", email: "u-stall@example.com" },
			channels: ["email"],
		});
		await waitForNotification(apiKey, sent, (v) => channel(v, "email")?.status === "sent");
		expect(await mailCount(apiKey)).toBe(1);
		const id = await deliveryOf(tenantId, sent);
		const young = await storedEmail(apiKey, tenantId, "u-stall-young");
		// The crash: claimed for attempt 1 (sending), the outcome never written.
		const now = Date.now();
		await setRow(id, "status = 'sending', attempts = 1, updated_at = ?", now - STALL_MS - 60_000);
		await setRow(young.id, "status = 'sending', attempts = 1, updated_at = ?", now - 60_000);

		expect(await sweepStrandedNotifications(env, now)).toEqual({ requeued: 1, stalled: 1 });
		expect(await sweepStrandedNotifications(env, now)).toEqual({ requeued: 0, stalled: 0 });
		await waitForNotification(
			apiKey,
			sent,
			(v) => channel(v, "email")?.status === "sent" && channel(v, "email")?.attempts === 2,
		);
		await sleep(300);
		// The provider saw the same idempotency key again: still one mail.
		expect(await mailCount(apiKey)).toBe(1);
		const youngRow = await env.DB.prepare("SELECT status FROM notification_deliveries WHERE id = ?")
			.bind(young.id)
			.first<{ status: string }>();
		expect(youngRow?.status).toBe("sending");
	});
});
