import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleWebhooksBatch } from "../../../queues/webhooks";
import { createTenant } from "../helpers";
import {
	RECEIVER,
	createEndpoint,
	getEvent,
	interceptReceiver,
	publish,
	verifiesStandard,
	waitFor,
} from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

/** More than one multi-row statement's worth (9 attempt rows, 12 state rows per statement). */
const ENDPOINTS = 25;

async function attemptCount(eventId: string): Promise<number> {
	const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_attempts WHERE event_id = ?")
		.bind(eventId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

describe("a queue batch of webhook attempts", () => {
	it("delivers each once, logs every attempt in the batch's one write, and ignores duplicates and other tenants' ids", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey, tenantId } = await createTenant("a");
		const other = await createTenant("b");
		const secrets = new Map<string, string>();
		for (let i = 0; i < ENDPOINTS; i++) {
			const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/batch/${i}` });
			secrets.set(`${RECEIVER}/batch/${i}`, ep.secret);
		}
		const eventId = await publish(apiKey, "order.paid", { n: 1 });
		const delivered = await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries.length === ENDPOINTS && e.deliveries.every((d) => d.status === "succeeded"),
		);
		expect(await attemptCount(eventId)).toBe(ENDPOINTS);
		expect(seen).toHaveLength(ENDPOINTS);
		expect(seen.every((r) => verifiesStandard(secrets.get(r.url) ?? "", r))).toBe(true);

		// As if none had been attempted: one batch of their first attempts, each twice, plus another
		// tenant naming one of them.
		await env.DB.prepare("UPDATE webhook_deliveries SET status = 'pending', attempts = 0 WHERE event_id = ?")
			.bind(eventId)
			.run();
		seen.length = 0;
		const ids = delivered.deliveries.map((d) => d.delivery_id);
		const messages = ids.flatMap((id, i) =>
			[0, 1].map((copy) => ({
				id: `m${i}-${copy}`,
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: id, attempt: 1 },
			})),
		);
		messages.push({
			id: "foreign",
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "attempt", tenant_id: other.tenantId, delivery_id: ids[0] ?? "", attempt: 1 },
		});
		const batch = createMessageBatch("floodgate-webhooks", messages);
		const ctx = createExecutionContext();
		await handleWebhooksBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.retryMessages).toEqual([]);
		expect(result.explicitAcks).toHaveLength(messages.length);
		expect(new Set(seen.map((r) => r.url)).size).toBe(ENDPOINTS);
		expect(seen).toHaveLength(ENDPOINTS);
		expect(await attemptCount(eventId)).toBe(2 * ENDPOINTS);
		const after = await getEvent(apiKey, eventId);
		expect(after.deliveries.every((d) => d.status === "succeeded" && d.attempts === 1)).toBe(true);
	});

	it("claims a batch's deliveries together: a live lease keeps its delivery, a lapsed one is taken over", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey, tenantId } = await createTenant();
		for (const name of ["held", "lapsed", "fresh"]) await createEndpoint(apiKey, { url: `${RECEIVER}/claim/${name}` });
		const eventId = await publish(apiKey, "order.paid", { n: 3 });
		const delivered = await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries.length === 3 && e.deliveries.every((d) => d.status === "succeeded"),
		);
		seen.length = 0;
		const endpoints = await env.DB.prepare("SELECT id, url FROM webhook_endpoints WHERE tenant_id = ?")
			.bind(tenantId)
			.all<{ id: string; url: string }>();
		const urlOf = new Map(endpoints.results.map((e) => [e.id, e.url]));
		const byName = new Map(delivered.deliveries.map((d) => [urlOf.get(d.endpoint_id)?.split("/").pop(), d]));
		const now = Date.now();
		const reset = (name: string, status: string, leaseUntil: number | null) =>
			env.DB.prepare("UPDATE webhook_deliveries SET status = ?, attempts = 0, lease_until = ? WHERE id = ?")
				.bind(status, leaseUntil, byName.get(name)?.delivery_id ?? "")
				.run();
		await reset("held", "delivering", now + 60_000);
		await reset("lapsed", "delivering", now - 1);
		await reset("fresh", "pending", null);
		const batch = createMessageBatch(
			"floodgate-webhooks",
			["held", "lapsed", "fresh"].map((name) => ({
				id: name,
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: byName.get(name)?.delivery_id ?? "", attempt: 1 },
			})),
		);
		const ctx = createExecutionContext();
		await handleWebhooksBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.retryMessages).toEqual([]);
		expect(seen.map((r) => r.url).sort()).toEqual([`${RECEIVER}/claim/fresh`, `${RECEIVER}/claim/lapsed`]);
		const after = new Map((await getEvent(apiKey, eventId)).deliveries.map((d) => [d.delivery_id, d]));
		expect(after.get(byName.get("held")?.delivery_id ?? "")).toMatchObject({ status: "delivering", attempts: 0 });
		expect(after.get(byName.get("lapsed")?.delivery_id ?? "")).toMatchObject({ status: "succeeded", attempts: 1 });
		expect(after.get(byName.get("fresh")?.delivery_id ?? "")).toMatchObject({ status: "succeeded", attempts: 1 });
	});

	it("stores a failed attempt's retry state and schedules the retry after the batch's write", async () => {
		const seen = interceptReceiver(() => new Response("down", { status: 503, headers: { "retry-after": "120" } }));
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/batch-fail` });
		const eventId = await publish(apiKey, "order.paid", { n: 2 });
		const failed = await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries[0]?.attempts === 1,
		);
		expect(failed.deliveries[0]).toMatchObject({ status: "pending", last_status_code: 503 });
		expect(seen).toHaveLength(1);
		const row = await env.DB.prepare("SELECT next_attempt_at, updated_at FROM webhook_deliveries WHERE event_id = ?")
			.bind(eventId)
			.first<{ next_attempt_at: number; updated_at: number }>();
		expect((row?.next_attempt_at ?? 0) - (row?.updated_at ?? 0)).toBe(120_000);
	});
});
