import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { enqueueDueDigests, flushDigest, flushDigestMessage } from "../../../src/notifications/digest";
import { findDigest, sealDigest } from "../../../src/notifications/digest-db";
import type { DigestRow } from "../../../src/notifications/digest-db";
import { handleNotificationsBatch } from "../../../queues/notifications";
import { call, createTenant, sleep } from "../helpers";
import type { Json } from "../helpers";
import { N, channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

type Inbox = { items: { id: string; title: string; body: string }[] };

const DAY = { orders: { window_minutes: 1_440 } };
const inApp = (user: string, order: number, extra: Json = {}): Json => ({
	recipient: { user_id: user },
	channels: ["in_app"],
	data: { name: "Ann", order },
	...extra,
});

async function setup(user: string, digests: Json = DAY): Promise<{ tenantId: string; apiKey: string }> {
	const tenant = await createTenant();
	await putTemplate(tenant.apiKey);
	const res = await call("PUT", `${N}/users/${user}/preferences`, { token: tenant.apiKey, body: { digests } });
	expect(res.status, await res.clone().text()).toBe(200);
	return tenant;
}

async function inbox(apiKey: string, user: string): Promise<Inbox> {
	const res = await call("GET", `${N}/users/${user}/inbox`, { token: apiKey });
	expect(res.status).toBe(200);
	return res.json<Inbox>();
}

async function waitForInbox(apiKey: string, user: string, count: number): Promise<Inbox> {
	const until = Date.now() + 8_000;
	for (;;) {
		const box = await inbox(apiKey, user);
		if (box.items.length >= count) return box;
		if (Date.now() > until) throw new Error(`inbox has ${box.items.length} of ${count}`);
		await sleep(50);
	}
}

/** The digest's window ends now (as if its day had passed): what the cron finds due. */
async function endWindow(digest: DigestRow): Promise<DigestRow> {
	const now = Date.now();
	await env.DB.prepare("UPDATE notification_digests SET flush_at = ? WHERE id = ?").bind(now, digest.id).run();
	return { ...digest, flush_at: now };
}

/** Sends and returns the digest the in-app channel was collected into. */
async function sendDigested(apiKey: string, tenantId: string, user: string, order: number): Promise<DigestRow> {
	const id = await send(apiKey, inApp(user, order));
	const view = channel(await getNotification(apiKey, id), "in_app");
	expect(view).toMatchObject({ status: "digested", reason: "collected into the 1440-minute orders digest" });
	const digest = await findDigest(env.DB, tenantId, view?.digest_id ?? "");
	if (!digest) throw new Error("no digest row");
	return digest;
}

describe("notification digests", () => {
	it("collects a category's non-critical notifications and sends one at the window's end; critical bypasses", async () => {
		const { tenantId, apiKey } = await setup("u-dig");
		const digests = [];
		for (const order of [1, 2, 3]) digests.push(await sendDigested(apiKey, tenantId, "u-dig", order));
		expect(new Set(digests.map((d) => d.id)).size).toBe(1);
		const digest = digests[0];
		if (!digest) throw new Error("no digest");
		expect(digest.flush_at - digest.window_start).toBe(86_400_000);
		expect((await findDigest(env.DB, tenantId, digest.id))?.item_count).toBe(3);
		const critical = await send(apiKey, inApp("u-dig", 9, { priority: "critical" }));
		await waitForNotification(apiKey, critical, (v) => channel(v, "in_app")?.status === "delivered");
		// Before its window ends a digest is neither flushed nor put on the queue.
		expect(await flushDigest(env, digest, digest.flush_at - 1)).toBe(false);
		await enqueueDueDigests(env);
		expect((await findDigest(env.DB, tenantId, digest.id))?.enqueued_at).toBeNull();
		expect((await inbox(apiKey, "u-dig")).items.map((i) => i.id)).toEqual([critical]);
		// The window ends: the cron's sweep puts it on the queue, whose consumer flushes it.
		await endWindow(digest);
		expect((await enqueueDueDigests(env)).enqueued).toBeGreaterThanOrEqual(1);
		expect((await findDigest(env.DB, tenantId, digest.id))?.enqueued_at).not.toBeNull();
		const box = await waitForInbox(apiKey, "u-dig", 2);
		const sent = box.items.find((i) => i.id !== critical);
		expect(sent).toMatchObject({ title: "3 new orders notifications" });
		expect(sent?.body).toBe("- Shipped\n- Shipped\n- Shipped");
		const after = await findDigest(env.DB, tenantId, digest.id);
		expect(after).toMatchObject({ status: "sent", notification_id: sent?.id });
	});

	it("queues a send on its own once its window's digest is sealed (never lost to a closed digest)", async () => {
		const { tenantId, apiKey } = await setup("u-late");
		const digest = await endWindow(await sendDigested(apiKey, tenantId, "u-late", 1));
		expect(await sealDigest(env.DB, tenantId, digest.id, digest.flush_at)).toBe(true);
		const late = await send(apiKey, inApp("u-late", 2));
		const view = await waitForNotification(apiKey, late, (v) => channel(v, "in_app")?.status === "delivered");
		expect(channel(view, "in_app")).toMatchObject({ reason: "the digest window had closed", digest_id: null });
		expect((await findDigest(env.DB, tenantId, digest.id))?.item_count).toBe(1);
	});

	it("sends a digest once when the flush is repeated, crashes after sealing, or its message is redelivered", async () => {
		const { tenantId, apiKey } = await setup("u-once");
		await sendDigested(apiKey, tenantId, "u-once", 1);
		const digest = await endWindow(await sendDigested(apiKey, tenantId, "u-once", 2));
		// A flush that stopped right after sealing: the next ones finish it, concurrently.
		expect(await sealDigest(env.DB, tenantId, digest.id, digest.flush_at)).toBe(true);
		await Promise.all([
			flushDigest(env, digest, digest.flush_at),
			flushDigest(env, { ...digest, status: "sealed" }, digest.flush_at),
			enqueueDueDigests(env),
		]);
		const box = await waitForInbox(apiKey, "u-once", 1);
		const sent = await findDigest(env.DB, tenantId, digest.id);
		expect(sent?.status).toBe("sent");
		const rows = await env.DB.prepare("SELECT id FROM notifications WHERE tenant_id = ? AND idempotency_key = ?")
			.bind(tenantId, `digest:${digest.id}`)
			.all<{ id: string }>();
		expect(rows.results.map((r) => r.id)).toEqual([sent?.notification_id]);
		// The queue redelivers the digest's attempt message, and a later cron sees nothing due.
		const delivery = await env.DB.prepare("SELECT id FROM notification_deliveries WHERE notification_id = ?")
			.bind(sent?.notification_id ?? "")
			.first<{ id: string }>();
		const body = { kind: "attempt", tenant_id: tenantId, delivery_id: delivery?.id ?? "", attempt: 1 };
		const digestBody = { kind: "digest", tenant_id: tenantId, digest_id: digest.id };
		const batch = createMessageBatch<unknown>("floodgate-notifications", [
			{ id: "d1", timestamp: new Date(), attempts: 2, body },
			{ id: "g1", timestamp: new Date(), attempts: 2, body: digestBody },
			{ id: "g2", timestamp: new Date(), attempts: 1, body: digestBody },
		]);
		const ctx = createExecutionContext();
		await handleNotificationsBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks.toSorted()).toEqual(["d1", "g1", "g2"]);
		expect(await flushDigest(env, digest, digest.flush_at)).toBe(false);
		await sleep(200);
		expect((await inbox(apiKey, "u-once")).items.map((i) => i.id)).toEqual(box.items.map((i) => i.id));
		expect(box.items).toHaveLength(1);
	});

	it("renders a tenant's digest.<category> template when it has the channel", async () => {
		const { tenantId, apiKey } = await setup("u-tpl");
		const tpl = {
			category: "orders",
			channels: { in_app: { title: "{{count}} order updates", body: "{{#items}}[{{body}}]{{/items}}" } },
		};
		expect((await call("PUT", `${N}/templates/digest.orders`, { token: apiKey, body: tpl })).status).toBe(200);
		await sendDigested(apiKey, tenantId, "u-tpl", 7);
		const digest = await endWindow(await sendDigested(apiKey, tenantId, "u-tpl", 8));
		expect(await flushDigest(env, digest, digest.flush_at)).toBe(true);
		const box = await waitForInbox(apiKey, "u-tpl", 1);
		expect(box.items[0]).toMatchObject({
			title: "2 order updates",
			body: "[Order 7 is on its way][Order 8 is on its way]",
		});
	});

	it("keeps tenants' digests apart for the same user id and category", async () => {
		const a = await setup("u-same");
		const b = await setup("u-same");
		await sendDigested(a.apiKey, a.tenantId, "u-same", 1);
		const da = await endWindow(await sendDigested(a.apiKey, a.tenantId, "u-same", 2));
		const db = await endWindow(await sendDigested(b.apiKey, b.tenantId, "u-same", 3));
		expect(da.id).not.toBe(db.id);
		expect(await findDigest(env.DB, b.tenantId, da.id)).toBeNull();
		const foreign = { kind: "digest" as const, tenant_id: b.tenantId, digest_id: da.id, priority: "normal" as const };
		expect(await flushDigestMessage(env, foreign)).toBe(false);
		expect((await findDigest(env.DB, a.tenantId, da.id))?.status).toBe("collecting");
		expect(await flushDigest(env, da, da.flush_at)).toBe(true);
		expect(await flushDigest(env, db, db.flush_at)).toBe(true);
		expect((await waitForInbox(a.apiKey, "u-same", 1)).items[0]?.title).toBe("2 new orders notifications");
		expect((await waitForInbox(b.apiKey, "u-same", 1)).items[0]?.title).toBe("1 new orders notification");
		const theirs = await call("GET", `${N}/${(await findDigest(env.DB, a.tenantId, da.id))?.notification_id}`, {
			token: b.apiKey,
		});
		expect(theirs.status).toBe(404);
	});

	it("rejects a digest window outside 1 minute to 1 day", async () => {
		const { apiKey } = await createTenant();
		for (const window_minutes of [0, 1_441, 1.5]) {
			const res = await call("PUT", `${N}/users/u/preferences`, {
				token: apiKey,
				body: { digests: { orders: { window_minutes } } },
			});
			expect(res.status).toBe(400);
		}
	});
});
