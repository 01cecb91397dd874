import { afterEach, describe, expect, it, vi } from "vitest";
import { createTenant } from "../helpers";
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

describe("webhook delivery (Standard Webhooks, verified by standardwebhooks and svix)", () => {
	it("delivers a published event signed so both third-party verifiers accept it", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/a`, event_types: ["order.*"] });
		expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
		const eventId = await publish(apiKey, "order.paid", { order: 7 });
		const event = await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		expect(event.deliveries).toHaveLength(1);
		const got = seen.find((r) => r.url === `${RECEIVER}/a`);
		if (!got) throw new Error("nothing delivered");
		expect(got.headers.get("webhook-id")).toBe(eventId);
		expect(Math.abs(Number(got.headers.get("webhook-timestamp")) - Date.now() / 1000)).toBeLessThan(60);
		expect(got.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
		expect(verifiesStandard(ep.secret, got)).toBe(true);
		expect(verifiesSvix(ep.secret, got)).toBe(true);
		expect(JSON.parse(got.body)).toMatchObject({ type: "order.paid", data: { order: 7 } });
	});

	it("fails verification for a tampered body, a stale timestamp and a wrong secret", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		const ep = await createEndpoint(apiKey, { url: `${RECEIVER}/b` });
		const other = await createEndpoint(apiKey, { url: `${RECEIVER}/other`, event_types: ["nothing.here"] });
		const eventId = await publish(apiKey, "order.paid", { amount: 100 });
		await waitFor(
			() => getEvent(apiKey, eventId),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		const got = seen.find((r) => r.url === `${RECEIVER}/b`);
		if (!got) throw new Error("nothing delivered");
		const tampered = { ...got, body: got.body.replace("100", "999") };
		expect(verifiesStandard(ep.secret, tampered)).toBe(false);
		expect(verifiesSvix(ep.secret, tampered)).toBe(false);
		const staleHeaders = new Headers(got.headers);
		staleHeaders.set("webhook-timestamp", String(Math.floor(Date.now() / 1000) - 3600));
		expect(verifiesStandard(ep.secret, { body: got.body, headers: staleHeaders })).toBe(false);
		expect(verifiesSvix(ep.secret, { body: got.body, headers: staleHeaders })).toBe(false);
		expect(verifiesStandard(other.secret, got)).toBe(false);
		expect(verifiesSvix(other.secret, got)).toBe(false);
		// The endpoint subscribed to something else received nothing.
		expect(seen.some((r) => r.url === `${RECEIVER}/other`)).toBe(false);
	});

	it("routes by exact type and prefix wildcard", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/jobs`, event_types: ["job.*"] });
		await createEndpoint(apiKey, { url: `${RECEIVER}/dead`, event_types: ["job.dead"] });
		const completed = await publish(apiKey, "job.completed", { id: 1 });
		const dead = await publish(apiKey, "job.dead", { id: 2 });
		const jobber = await publish(apiKey, "jobber.x", { id: 3 });
		await waitFor(
			() => getEvent(apiKey, dead),
			(e) => e.deliveries.length === 2 && e.deliveries.every((d) => d.status === "succeeded"),
		);
		await waitFor(
			() => getEvent(apiKey, completed),
			(e) => e.deliveries[0]?.status === "succeeded",
		);
		expect((await getEvent(apiKey, completed)).deliveries).toHaveLength(1);
		expect((await getEvent(apiKey, jobber)).deliveries).toHaveLength(0);
		const toJobs = seen.filter((r) => r.url.endsWith("/jobs")).map((r) => r.headers.get("webhook-id"));
		expect(new Set(toJobs)).toEqual(new Set([completed, dead]));
		expect(toJobs).toHaveLength(2);
		expect(seen.filter((r) => r.url.endsWith("/dead")).map((r) => r.headers.get("webhook-id"))).toEqual([dead]);
	});
});
