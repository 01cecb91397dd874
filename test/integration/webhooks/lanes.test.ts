import { afterEach, describe, expect, it, vi } from "vitest";
import { createTenant } from "../helpers";
import { enqueue, waitForJob } from "../jobs/jobs-helpers";
import { publishEvent } from "../../../src/webhooks/service";
import { env } from "cloudflare:workers";
import { RECEIVER, createEndpoint, getEvent, interceptReceiver, publish, waitFor } from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

type Body = { type: string; data: { order_id?: string; n?: number; job_id?: string } };

describe("webhook lanes: ordering and rate limits (DeliveryLane), platform events", () => {
	it("delivers in order per ordering key: the next event waits until the previous one succeeded", async () => {
		let failedOnce = false;
		const seen = interceptReceiver((req, all) => {
			const last = all.at(-1);
			const body = JSON.parse(last?.body ?? "{}") as Body;
			if (req.url.endsWith("/ordered") && body.data.n === 1 && !failedOnce) {
				failedOnce = true;
				return new Response("not yet", { status: 500 });
			}
			return new Response("ok");
		});
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/ordered`, ordering_key: "order_id" });
		const ids: string[] = [];
		for (const n of [1, 2, 3]) ids.push(await publish(apiKey, "order.updated", { order_id: "o-1", n }));
		await waitFor(
			() => Promise.all(ids.map((id) => getEvent(apiKey, id))),
			(events) => events.every((e) => e.deliveries[0]?.status === "succeeded"),
			15_000,
		);
		const order = seen.map((r) => (JSON.parse(r.body) as Body).data.n);
		expect(order).toEqual([1, 1, 2, 3]);
	}, 20_000);

	it("paces an endpoint to its rate limit", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/paced`, rate_limit: 2 });
		const ids: string[] = [];
		for (let n = 0; n < 6; n++) ids.push(await publish(apiKey, "order.paid", { n }));
		await waitFor(
			() => Promise.all(ids.map((id) => getEvent(apiKey, id))),
			(events) => events.every((e) => e.deliveries[0]?.status === "succeeded"),
			15_000,
		);
		const times = seen.map((r) => r.at).sort((a, b) => a - b);
		// Slots are granted 500 ms apart; arrivals jitter by the claim and signing between the grant
		// and the POST (more on a loaded machine), so allow some slack. Unpaced, all 6 land within ms.
		expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(2_000);
		for (const [i, t] of times.entries()) if (i > 0) expect(t - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(200);
	}, 20_000);

	it("publishes job.completed when a job finishes, and nothing for a tenant without a subscriber", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { apiKey, tenantId } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/jobs`, event_types: ["job.*"] });
		const jobId = await enqueue(apiKey, { type: "noop" });
		await waitForJob(apiKey, jobId, (j) => j.status === "completed");
		const got = await waitFor(
			async () => seen.find((r) => (JSON.parse(r.body) as Body).data.job_id === jobId),
			(r) => r !== undefined,
		);
		expect(JSON.parse(got?.body ?? "{}")).toMatchObject({
			type: "job.completed",
			data: { job_id: jobId, type: "noop" },
		});
		expect(await publishEvent(env, tenantId, "payment.failed", { x: 1 })).toBeNull();
		const other = await createTenant("quiet");
		expect(await publishEvent(env, other.tenantId, "job.completed", { x: 1 })).toBeNull();
	});
});
