import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleWebhooksBatch } from "../../../queues/webhooks";
import worker from "../../../src/index";
import { LEASE_GRACE_MS, PENDING_GRACE_MS, SWEEP_LIMIT, sweepStrandedDeliveries } from "../../../src/webhooks/sweeper";
import { insertEvent } from "../../../src/webhooks/delivery-db";
import { newId } from "../../../src/platform/crypto";
import { createTenant, sleep } from "../helpers";
import { RECEIVER, createEndpoint, getEvent, interceptReceiver, publish, waitFor } from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

type Row = { status: string; attempts: number; updated_at: number; lease_until: number | null };

async function row(id: string): Promise<Row | null> {
	return env.DB.prepare("SELECT status, attempts, updated_at, lease_until FROM webhook_deliveries WHERE id = ?")
		.bind(id)
		.first<Row>();
}

async function attemptCount(deliveryId: string): Promise<number> {
	const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_attempts WHERE delivery_id = ?")
		.bind(deliveryId)
		.first<{ n: number }>();
	return r?.n ?? 0;
}

/** A delivery made and delivered through the real path (publish → fan-out → attempt); its id. */
async function deliveredOnce(apiKey: string, path: string): Promise<string> {
	await createEndpoint(apiKey, { url: `${RECEIVER}/${path}` });
	const eventId = await publish(apiKey, "order.paid", { path });
	const event = await waitFor(
		() => getEvent(apiKey, eventId),
		(e) => e.deliveries.length === 1 && e.deliveries[0]?.status === "succeeded",
	);
	return event.deliveries[0]?.delivery_id ?? "";
}

/** Puts a delivery back into a state where no queue message will ever come for it. */
async function strand(id: string, set: string, ...values: (number | null)[]): Promise<void> {
	await env.DB.prepare(`UPDATE webhook_deliveries SET ${set} WHERE id = ?`)
		.bind(...values, id)
		.run();
	await env.DB.prepare("DELETE FROM webhook_attempts WHERE delivery_id = ?").bind(id).run();
}

describe("the stranded webhook delivery sweep", () => {
	it("re-enqueues a delivery whose consumer crashed mid-send, once, and it reaches the receiver once even beside its original message", async () => {
		// A slow receiver: the swept message's attempt is still in flight when the original arrives.
		let holdMs = 0;
		const seen = interceptReceiver(async () => {
			await sleep(holdMs);
			return new Response("ok");
		});
		const { apiKey, tenantId } = await createTenant("sw1");
		const id = await deliveredOnce(apiKey, "crashed");
		holdMs = 1_000;
		// The crash: claimed (delivering, lease taken 3 min ago, 2 min past), no attempt stored, message acked as stale.
		const claimedAt = Date.now() - 3 * 60_000;
		await strand(
			id,
			"status = 'delivering', attempts = 0, lease_until = ?, updated_at = ?",
			claimedAt + 60_000,
			claimedAt,
		);
		seen.length = 0;

		const first = await sweepStrandedDeliveries(env);
		expect(first).toMatchObject({ requeued: 1, delivering: 1, pending: 0 });
		// Taken once: a second sweep right after finds nothing.
		expect(await sweepStrandedDeliveries(env)).toEqual({ requeued: 0, pending: 0, delivering: 0, events: 0 });
		// The sweep's message is being delivered (claimed, under a fresh lease, its POST held)...
		await waitFor(
			() => row(id),
			(r) => r?.status === "delivering" && (r.lease_until ?? 0) > Date.now(),
		);
		// ...when the original message turns up too (a redelivery): the batch consumer finds it owned.
		const batch = createMessageBatch("floodgate-webhooks", [
			{
				id: "orig",
				timestamp: new Date(),
				attempts: 2,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: id, attempt: 1 },
			},
		]);
		const ctx = createExecutionContext();
		await handleWebhooksBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["orig"]);

		await waitFor(
			() => row(id),
			(r) => r?.status === "succeeded",
		);
		await sleep(500);
		expect(seen).toHaveLength(1);
		expect(await attemptCount(id)).toBe(1);
		expect(await row(id)).toMatchObject({ status: "succeeded", attempts: 1 });
	});

	it("re-enqueues a due retry whose message was never sent, as the next attempt", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant("sw2");
		const id = await deliveredOnce(apiKey, "retry");
		// Attempt 1 failed and its retry was due 10 min ago; the retry's send failed after the write.
		const then = Date.now() - 10 * 60_000;
		await strand(id, "status = 'pending', attempts = 1, next_attempt_at = ?, updated_at = ?", then, then);
		seen.length = 0;

		expect(await sweepStrandedDeliveries(env)).toMatchObject({ requeued: 1, pending: 1 });
		await waitFor(
			() => row(id),
			(r) => r?.status === "succeeded",
		);
		await sleep(300);
		expect(seen).toHaveLength(1);
		expect(await row(id)).toMatchObject({ status: "succeeded", attempts: 2 });
		expect(await sweepStrandedDeliveries(env)).toMatchObject({ requeued: 0 });
	});

	it("leaves alone deliveries inside their grace, retries not yet due, and finished ones", async () => {
		interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant("sw3");
		const now = Date.now();
		for (const p of ["g1", "g2", "g3", "g4", "g5"]) await createEndpoint(apiKey, { url: `${RECEIVER}/${p}` });
		const eventId = await publish(apiKey, "order.paid", {});
		const event = await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries.length === 5 && e.deliveries.every((d) => d.status === "succeeded"),
		);
		const ids = event.deliveries.map((d) => d.delivery_id);
		const [leaseRecent, pendingRecent, retryLater, succeeded, touched] = ids.map((id) => id);
		// The lease ran out 30 s ago (< LEASE_GRACE_MS): its consumer may still be finishing.
		await strand(
			leaseRecent ?? "",
			"status = 'delivering', lease_until = ?, updated_at = ?",
			now - LEASE_GRACE_MS / 2,
			now - 2 * 60_000,
		);
		// Pending, stored 1 min ago (< PENDING_GRACE_MS): its fan-out message may be on its way.
		await strand(pendingRecent ?? "", "status = 'pending', attempts = 0, updated_at = ?", now - 60_000);
		// A retry due in an hour (its delayed message is in the queue), stored long ago.
		await strand(
			retryLater ?? "",
			"status = 'pending', attempts = 1, next_attempt_at = ?, updated_at = ?",
			now + 3_600_000,
			now - PENDING_GRACE_MS * 2,
		);
		// Succeeded long ago.
		await env.DB.prepare("UPDATE webhook_deliveries SET updated_at = ? WHERE id = ?")
			.bind(now - 86_400_000, succeeded ?? "")
			.run();
		// A lease long gone, but swept a minute ago (its message is in the queue).
		await strand(
			touched ?? "",
			"status = 'delivering', lease_until = ?, updated_at = ?",
			now - 10 * 60_000,
			now - 60_000,
		);

		expect(await sweepStrandedDeliveries(env, now)).toEqual({ requeued: 0, pending: 0, delivering: 0, events: 0 });
		// The same rows (all but the retry due in an hour) are stranded once their grace passed.
		expect(await sweepStrandedDeliveries(env, now + PENDING_GRACE_MS + 1)).toEqual({
			requeued: 3,
			pending: 1,
			delivering: 2,
			events: 0,
		});
		// Their messages are delivered (in the background) and each reaches its receiver.
		await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries.filter((d) => d.status === "succeeded").length === 4,
		);
	});

	it("takes at most its bound per run, the oldest first, and the rest on the next runs", async () => {
		expect(SWEEP_LIMIT).toBeLessThanOrEqual(500);
		const { tenantId } = await createTenant("sw4");
		const old = Date.now() - 3_600_000;
		// Deliveries of an unknown endpoint and event: the consumer ends each without a request.
		const values = Array.from({ length: 7 }, (_, i) => i);
		for (const i of values) {
			await env.DB.prepare(
				`INSERT INTO webhook_deliveries (id, tenant_id, event_id, endpoint_id, status, attempts, created_at, updated_at)
				 VALUES (?, ?, 'evt_none', 'ep_none', 'pending', 0, ?, ?)`,
			)
				.bind(`dlv_bound_${i}`, tenantId, old + i, old + i)
				.run();
		}
		const first = await sweepStrandedDeliveries(env, Date.now(), 3);
		expect(first.requeued).toBe(3);
		const swept = await env.DB.prepare(
			"SELECT id FROM webhook_deliveries WHERE tenant_id = ? AND updated_at > ? ORDER BY id",
		)
			.bind(tenantId, old + 100)
			.all<{ id: string }>();
		expect(swept.results.map((r) => r.id)).toEqual(["dlv_bound_0", "dlv_bound_1", "dlv_bound_2"]);
		expect((await sweepStrandedDeliveries(env, Date.now(), 3)).requeued).toBe(3);
		expect((await sweepStrandedDeliveries(env, Date.now(), 3)).requeued).toBe(1);
		// The consumer ended each (the endpoint is unknown): nothing is left for a sweep.
		await waitFor(
			() =>
				env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE tenant_id = ? AND status = 'failed'")
					.bind(tenantId)
					.first<{ n: number }>(),
			(r) => r?.n === values.length,
		);
	});

	it("runs on the every-minute cron", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant("sw5");
		const id = await deliveredOnce(apiKey, "cron");
		const then = Date.now() - 10 * 60_000;
		await strand(id, "status = 'pending', attempts = 0, updated_at = ?", then);
		seen.length = 0;
		const ctx = createExecutionContext();
		await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);
		await waitFor(
			() => row(id),
			(r) => r?.status === "succeeded",
		);
		expect(seen).toHaveLength(1);
	});
});

describe("the sweep of events whose fan-out never ran", () => {
	type EventMark = { fanned_out_at: number | null };
	const mark = (id: string) =>
		env.DB.prepare("SELECT fanned_out_at FROM webhook_events WHERE id = ?").bind(id).first<EventMark>();

	it("marks a fanned-out event, re-enqueues the fan-out of one stored without it once, and leaves one in its grace", async () => {
		const seen = interceptReceiver(async () => new Response("ok"));
		const { apiKey, tenantId } = await createTenant("sw-ev");
		await createEndpoint(apiKey, { url: `${RECEIVER}/events` });
		// The real path marks the event once its deliveries and first attempts are out.
		const published = await publish(apiKey, "order.paid", { n: 0 });
		await waitFor(
			() => getEvent(apiKey, published),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		expect((await mark(published))?.fanned_out_at).toBeGreaterThan(0);

		// A platform event stored, then its fan-out send failed: the row exists, no message, no mark.
		const now = Date.now();
		const stored = async (id: string, createdAt: number) => {
			const payload = JSON.stringify({ id });
			await insertEvent(
				env.DB,
				{ id, tenant_id: tenantId, type: "order.paid", idempotency_key: null, payload_parts: 1, created_at: createdAt },
				[payload],
			);
		};
		const old = newId("evt");
		const young = newId("evt");
		await stored(old, now - PENDING_GRACE_MS - 60_000);
		await stored(young, now - 10_000);
		seen.length = 0;

		const first = await sweepStrandedDeliveries(env, now);
		expect(first.events).toBe(1);
		const event = await waitFor(
			() => getEvent(apiKey, old),
			(e) => e.deliveries.length === 1 && e.deliveries[0]?.status === "succeeded",
		);
		expect(event.deliveries).toHaveLength(1);
		expect((await mark(old))?.fanned_out_at).toBeGreaterThan(0);
		// Marked now: the next sweep sends nothing for it; the young one waits for its grace.
		expect((await sweepStrandedDeliveries(env, now)).events).toBe(0);
		await sleep(300);
		expect(seen.filter((r) => r.url.endsWith("/events"))).toHaveLength(1);
		expect((await mark(young))?.fanned_out_at).toBeNull();
	});
});
