import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createTenant } from "../helpers";
import type { Json } from "../helpers";
import {
	RECEIVER,
	createEndpoint,
	getEvent,
	interceptReceiver,
	publish,
	verifiesStandard,
	verifiesSvix,
	waitFor,
} from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

const W = "/api/v1/webhooks";

describe("webhook endpoints and events API", () => {
	it("creates, lists with a cursor, patches and deletes endpoints; the secret is shown only at creation", async () => {
		const { apiKey } = await createTenant();
		const a = await createEndpoint(apiKey, { url: `${RECEIVER}/1`, description: "one", event_types: ["job.*"] });
		await createEndpoint(apiKey, { url: `${RECEIVER}/2` });
		await createEndpoint(apiKey, { url: `${RECEIVER}/3` });
		const first = await (await call("GET", `${W}/endpoints?limit=2`, { token: apiKey })).json<Json>();
		expect((first.endpoints as Json[]).map((e) => e.url)).toEqual([`${RECEIVER}/1`, `${RECEIVER}/2`]);
		expect((first.endpoints as Json[])[0]).not.toHaveProperty("secret");
		const second = await (
			await call("GET", `${W}/endpoints?limit=2&cursor=${String(first.next_cursor)}`, { token: apiKey })
		).json<Json>();
		expect((second.endpoints as Json[]).map((e) => e.url)).toEqual([`${RECEIVER}/3`]);
		expect(second.next_cursor).toBeNull();
		const patched = await call("PATCH", `${W}/endpoints/${a.id}`, {
			token: apiKey,
			body: { rate_limit: 5, event_types: ["order.paid"] },
		});
		expect(await patched.json()).toMatchObject({
			rate_limit: 5,
			event_types: ["order.paid"],
			url: `${RECEIVER}/1`,
			description: "one",
		});
		expect((await call("DELETE", `${W}/endpoints/${a.id}`, { token: apiKey })).status).toBe(204);
		expect((await call("GET", `${W}/endpoints/${a.id}`, { token: apiKey })).status).toBe(404);
	});

	it("refuses private, plain-http and malformed endpoint URLs and bad subscriptions", async () => {
		const { apiKey } = await createTenant();
		for (const url of ["https://10.0.0.1/x", "http://example.com/x", "https://localhost/x", "not a url"]) {
			const res = await call("POST", `${W}/endpoints`, { token: apiKey, body: { url } });
			expect(res.status, url).toBe(400);
		}
		const bad = await call("POST", `${W}/endpoints`, {
			token: apiKey,
			body: { url: `${RECEIVER}/x`, event_types: ["Job*"] },
		});
		expect(bad.status).toBe(400);
	});

	it("rejects a payload over 256 KB with 400 and a body over the platform limit with 413; keeps a large one intact", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/big` });
		const over = await call("POST", `${W}/events`, {
			token: apiKey,
			body: { type: "big.one", payload: { s: "x".repeat(262_144) } },
		});
		expect(over.status).toBe(400);
		expect((await over.json<{ error: { code: string } }>()).error.code).toBe("payload_too_large");
		const huge = await call("POST", `${W}/events`, {
			token: apiKey,
			body: { type: "big.one", payload: { s: "x".repeat(1_100_000) } },
		});
		expect(huge.status).toBe(413);
		// 200 KB with multi-byte characters spans several stored parts and comes back byte for byte.
		const text = "é€😀".repeat(20_000);
		const id = await publish(apiKey, "big.one", { text });
		await waitFor(
			() => getEvent(apiKey, id),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		const got = seen.find((r) => r.headers.get("webhook-id") === id);
		expect((JSON.parse(got?.body ?? "{}") as { data: { text: string } }).data.text).toBe(text);
		expect((await getEvent(apiKey, id)).payload).toEqual({ text });
	});

	it("answers the first event again for a repeated idempotency_key", async () => {
		interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		const body = { type: "order.paid", payload: { n: 1 }, idempotency_key: "k-1" };
		const first = await (await call("POST", `${W}/events`, { token: apiKey, body })).json<Json>();
		const again = await (await call("POST", `${W}/events`, { token: apiKey, body })).json<Json>();
		expect(again).toEqual({ event_id: first.event_id, duplicate: true });
		expect(first.duplicate).toBe(false);
	});

	it("rotates a secret: during the overlap both secrets verify, with two signatures in webhook-signature", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/rot` });
		const rotated = await call("POST", `${W}/endpoints/${ep.id}/rotate-secret`, { token: apiKey, body: {} });
		expect(rotated.status).toBe(201);
		const { secret, previous_secret_expires_at } = await rotated.json<{
			secret: string;
			previous_secret_expires_at: string;
		}>();
		expect(secret).not.toBe(ep.secret);
		expect(Date.parse(previous_secret_expires_at) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
		const id = await publish(apiKey, "order.paid", { n: 2 });
		await waitFor(
			() => getEvent(apiKey, id),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		const got = seen.find((r) => r.headers.get("webhook-id") === id);
		if (!got) throw new Error("not delivered");
		expect(got.headers.get("webhook-signature")?.split(" ")).toHaveLength(2);
		for (const s of [secret, ep.secret]) {
			expect(verifiesStandard(s, got)).toBe(true);
			expect(verifiesSvix(s, got)).toBe(true);
		}
		// A zero overlap: only the new secret signs from now on.
		const again = await (
			await call("POST", `${W}/endpoints/${ep.id}/rotate-secret`, { token: apiKey, body: { overlap_seconds: 0 } })
		).json<{ secret: string }>();
		const id2 = await publish(apiKey, "order.paid", { n: 3 });
		await waitFor(
			() => getEvent(apiKey, id2),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		const got2 = seen.find((r) => r.headers.get("webhook-id") === id2);
		if (!got2) throw new Error("not delivered");
		expect(verifiesStandard(again.secret, got2)).toBe(true);
		expect(verifiesStandard(secret, got2)).toBe(false);
	});

	it("sends webhook.test to one endpoint, lists its attempts and health figures", async () => {
		const seen = interceptReceiver(() => new Response("thanks"));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/t`, event_types: ["nothing.matches"] });
		const res = await call("POST", `${W}/endpoints/${ep.id}/test`, { token: apiKey });
		expect(res.status).toBe(202);
		const { event_id } = await res.json<{ event_id: string }>();
		await waitFor(
			() => getEvent(apiKey, event_id),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		expect(JSON.parse(seen[0]?.body ?? "{}")).toMatchObject({ type: "webhook.test" });
		const attempts = await (
			await call("GET", `${W}/endpoints/${ep.id}/attempts`, { token: apiKey })
		).json<{ attempts: Json[] }>();
		expect(attempts.attempts).toHaveLength(1);
		expect(attempts.attempts[0]).toMatchObject({
			event_id,
			attempt: 1,
			status_code: 200,
			response_excerpt: "thanks",
			error: null,
		});
		const health = await (await call("GET", `${W}/endpoints/${ep.id}/health`, { token: apiKey })).json<Json>();
		expect(health).toMatchObject({ attempts: 1, succeeded: 1, success_rate: 1 });
		expect(typeof health.p99_ms).toBe("number");
	});

	it("answers 404 to another tenant on every id route", async () => {
		interceptReceiver(() => new Response("ok"));
		const a = await createTenant("a");
		const b = await createTenant("b");
		const ep = await createEndpoint(a.apiKey, { url: `${RECEIVER}/iso` });
		const eventId = await publish(a.apiKey, "order.paid", { n: 1 });
		const routes: [string, string, unknown?][] = [
			["GET", `${W}/endpoints/${ep.id}`],
			["PATCH", `${W}/endpoints/${ep.id}`, { description: "x" }],
			["DELETE", `${W}/endpoints/${ep.id}`],
			["POST", `${W}/endpoints/${ep.id}/rotate-secret`, {}],
			["POST", `${W}/endpoints/${ep.id}/enable`],
			["POST", `${W}/endpoints/${ep.id}/test`],
			["GET", `${W}/endpoints/${ep.id}/attempts`],
			["GET", `${W}/endpoints/${ep.id}/health`],
			["POST", `${W}/endpoints/${ep.id}/recover`, { since: "2020-01-01T00:00:00Z" }],
			["GET", `${W}/events/${eventId}`],
			["POST", `${W}/events/${eventId}/replay`, {}],
		];
		for (const [method, path, body] of routes) {
			const res = await call(method, path, { token: b.apiKey, body });
			expect(res.status, `${method} ${path}`).toBe(404);
		}
		// Still there for its owner.
		expect((await call("GET", `${W}/endpoints/${ep.id}`, { token: a.apiKey })).status).toBe(200);
		const list = await (await call("GET", `${W}/endpoints`, { token: b.apiKey })).json<{ endpoints: unknown[] }>();
		expect(list.endpoints).toEqual([]);
	});
});
