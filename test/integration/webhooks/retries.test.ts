import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runAttempt } from "../../../src/delivery/engine";
import { webhookAdapter } from "../../../src/webhooks/adapter";
import { call, createTenant } from "../helpers";
import type { Json } from "../helpers";
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

const W = "/api/v1/webhooks";

/** Puts a delivery just before its last attempt (as if 7 attempts had failed). */
async function atLastAttempt(deliveryId: string): Promise<void> {
	await env.DB.prepare("UPDATE webhook_deliveries SET attempts = 7, status = 'pending' WHERE id = ?")
		.bind(deliveryId)
		.run();
}

describe("webhook retries, Retry-After, 410 and dead letters", () => {
	it("retries a 500 about 5 s later, re-signed with a fresh timestamp, and logs both attempts", async () => {
		let fail = true;
		const seen = interceptReceiver(() => (fail ? new Response("boom", { status: 500 }) : new Response("ok")));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/r` });
		const id = await publish(apiKey, "order.paid", { n: 1 });
		const failed = await waitFor(
			() => getEvent(apiKey, id),
			(e) => e.deliveries[0]?.attempts === 1,
		);
		const d = failed.deliveries[0];
		expect(d).toMatchObject({ status: "pending", last_status_code: 500 });
		const wait = Date.parse(String(d?.next_attempt_at)) - Date.now();
		expect(wait).toBeGreaterThan(2_500);
		expect(wait).toBeLessThan(6_500);
		fail = false;
		await waitFor(
			() => getEvent(apiKey, id),
			(e) => e.deliveries[0]?.status === "succeeded",
			12_000,
		);
		const both = seen.filter((r) => r.headers.get("webhook-id") === id);
		expect(both).toHaveLength(2);
		expect(Number(both[1]?.headers.get("webhook-timestamp"))).toBeGreaterThan(
			Number(both[0]?.headers.get("webhook-timestamp")),
		);
		expect(both.every((r) => verifiesStandard(ep.secret, r))).toBe(true);
		const log = await (
			await call("GET", `${W}/endpoints/${ep.id}/attempts`, { token: apiKey })
		).json<{ attempts: Json[] }>();
		expect(log.attempts.map((a) => [a.attempt, a.status_code, a.response_excerpt])).toEqual([
			[2, 200, "ok"],
			[1, 500, "boom"],
		]);
	}, 20_000);

	it("honours Retry-After on 429", async () => {
		interceptReceiver(() => new Response("slow down", { status: 429, headers: { "Retry-After": "120" } }));
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/429` });
		const id = await publish(apiKey, "order.paid", { n: 1 });
		const e = await waitFor(
			() => getEvent(apiKey, id),
			(v) => v.deliveries[0]?.attempts === 1,
		);
		const wait = Date.parse(String(e.deliveries[0]?.next_attempt_at)) - Date.now();
		expect(wait).toBeGreaterThan(110_000);
		expect(wait).toBeLessThan(121_000);
	});

	it("disables an endpoint that answers 410 and tells the tenant's other endpoints with endpoint.disabled", async () => {
		const seen = interceptReceiver((req) =>
			req.url.endsWith("/gone") ? new Response("", { status: 410 }) : new Response("ok"),
		);
		const { apiKey } = await createTenant();
		const gone = await createEndpoint(apiKey, { url: `${RECEIVER}/gone`, event_types: ["order.*"] });
		await createEndpoint(apiKey, { url: `${RECEIVER}/ops`, event_types: ["endpoint.*"] });
		const id = await publish(apiKey, "order.paid", { n: 1 });
		const e = await waitFor(
			() => getEvent(apiKey, id),
			(v) => v.deliveries[0]?.status === "dead",
		);
		expect(e.deliveries[0]?.dead_reason).toContain("410");
		const view = await (await call("GET", `${W}/endpoints/${gone.id}`, { token: apiKey })).json<Json>();
		expect(view).toMatchObject({ enabled: false, disabled_reason: "the endpoint answered 410 Gone" });
		const notice = await waitFor(
			async () => seen.find((r) => r.url.endsWith("/ops")),
			(r) => r !== undefined,
		);
		expect(JSON.parse(notice?.body ?? "{}")).toMatchObject({
			type: "endpoint.disabled",
			data: { endpoint_id: gone.id },
		});
		// Disabled: nothing more goes there until it is enabled again.
		const later = await publish(apiKey, "order.paid", { n: 2 });
		expect((await getEvent(apiKey, later)).deliveries).toHaveLength(0);
		const enabled = await call("POST", `${W}/endpoints/${gone.id}/enable`, { token: apiKey });
		expect(await enabled.json()).toMatchObject({ enabled: true, disabled_reason: null });
	});

	it("dead-letters a delivery after its 8th failed attempt, and recover re-sends it once the receiver is back", async () => {
		let fail = true;
		const seen = interceptReceiver(() => (fail ? new Response("no", { status: 500 }) : new Response("ok")));
		const { apiKey, tenantId } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/dl` });
		const since = new Date().toISOString();
		const id = await publish(apiKey, "order.paid", { n: 1 });
		const first = await waitFor(
			() => getEvent(apiKey, id),
			(v) => v.deliveries[0]?.attempts === 1,
		);
		const deliveryId = String(first.deliveries[0]?.delivery_id);
		await atLastAttempt(deliveryId);
		const msg = { kind: "attempt" as const, tenant_id: tenantId, delivery_id: deliveryId, attempt: 8 };
		expect(await runAttempt(env, webhookAdapter, msg)).toBe("dead");
		const dead = await getEvent(apiKey, id);
		expect(dead.deliveries[0]).toMatchObject({ status: "dead", attempts: 8 });
		expect(dead.deliveries[0]?.dead_reason).toMatch(/8 attempts failed \(last: HTTP 500\)/);
		// The retry the queue still holds for attempt 2 is stale now: nothing more is sent.
		expect(await runAttempt(env, webhookAdapter, { ...msg, attempt: 2 })).toBe("stale");
		fail = false;
		const res = await call("POST", `${W}/endpoints/${ep.id}/recover`, { token: apiKey, body: { since } });
		expect(await res.json()).toEqual({ replayed: 1, event_ids: [id] });
		const after = await waitFor(
			() => getEvent(apiKey, id),
			(v) => v.deliveries.some((d) => d.replay && d.status === "succeeded"),
		);
		expect(after.deliveries).toHaveLength(2);
		expect(seen.at(-1)?.headers.get("webhook-id")).toBe(id);
		// Nothing failed since then: recover has nothing more to send.
		const again = await call("POST", `${W}/endpoints/${ep.id}/recover`, { token: apiKey, body: { since } });
		expect(await again.json()).toEqual({ replayed: 0, event_ids: [] });
	}, 20_000);

	it("never sends twice for a duplicated attempt message", async () => {
		let calls = 0;
		interceptReceiver(() => {
			calls++;
			return new Response("no", { status: 500 });
		});
		const { apiKey, tenantId } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/dup` });
		const id = await publish(apiKey, "order.paid", { n: 1 });
		const first = await waitFor(
			() => getEvent(apiKey, id),
			(v) => v.deliveries[0]?.attempts === 1,
		);
		const msg = {
			kind: "attempt" as const,
			tenant_id: tenantId,
			delivery_id: String(first.deliveries[0]?.delivery_id),
			attempt: 2,
		};
		const before = calls;
		const outcomes = await Promise.all([runAttempt(env, webhookAdapter, msg), runAttempt(env, webhookAdapter, msg)]);
		expect(outcomes.filter((o) => o === "retry")).toHaveLength(1);
		expect(outcomes.filter((o) => o === "stale")).toHaveLength(1);
		expect(calls - before).toBe(1);
	});

	it("disables an endpoint whose every attempt failed for 5 days", async () => {
		const seen = interceptReceiver(() => new Response("no", { status: 503 }));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/5d` });
		await createEndpoint(apiKey, { url: `${RECEIVER}/5d-other`, event_types: ["endpoint.disabled"] });
		await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?")
			.bind(Date.now() - 5 * 86_400_000 - 1_000, ep.id)
			.run();
		await publish(apiKey, "order.paid", { n: 1 });
		const view = await waitFor(
			async () => (await call("GET", `${W}/endpoints/${ep.id}`, { token: apiKey })).json<Json>(),
			(v) => v.enabled === false,
		);
		expect(view.disabled_reason).toBe("every attempt failed for 5 days");
		await waitFor(
			async () => seen.filter((r) => r.url.endsWith("/5d-other")).length,
			(n) => n === 1,
		);
	});
});
