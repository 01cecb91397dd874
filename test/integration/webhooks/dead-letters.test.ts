import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleWebhooksDeadLetterBatch } from "../../../queues/webhooks-dlq";
import { createTenant } from "../helpers";
import { RECEIVER, createEndpoint, getEvent, interceptReceiver, publish, waitFor } from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

type Body = { data: { n: number } };

describe("the webhooks dead-letter queue consumer", () => {
	it("marks a dead-lettered delivery dead with its reason and lets the next one of its ordered lane go", async () => {
		const seen = interceptReceiver((req) =>
			req.url.endsWith("/ordered-dlq") ? new Response("down", { status: 500 }) : new Response("ok"),
		);
		const { apiKey, tenantId } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/ordered-dlq`, ordering_key: "k" });
		const first = await publish(apiKey, "order.updated", { k: "a", n: 1 });
		const second = await publish(apiKey, "order.updated", { k: "a", n: 2 });
		const failing = await waitFor(
			() => getEvent(apiKey, first),
			(e) => e.deliveries[0]?.attempts === 1,
		);
		// The second waits behind the first in its lane: not sent.
		expect((await getEvent(apiKey, second)).deliveries[0]).toMatchObject({ status: "pending", attempts: 0 });
		const deliveryId = String(failing.deliveries[0]?.delivery_id);
		const batch = createMessageBatch("floodgate-webhooks-dlq", [
			{
				id: "d1",
				timestamp: new Date(),
				attempts: 6,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: deliveryId, attempt: 2 },
			},
			{ id: "d2", timestamp: new Date(), attempts: 6, body: { nonsense: true } },
		]);
		const ctx = createExecutionContext();
		await handleWebhooksDeadLetterBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks.toSorted((a, b) => a.localeCompare(b))).toEqual(["d1", "d2"]);
		expect((await getEvent(apiKey, first)).deliveries[0]).toMatchObject({
			status: "dead",
			dead_reason: "processing failed 6 times",
		});
		// The lane moved on: the second event is attempted now.
		await waitFor(
			() => getEvent(apiKey, second),
			(e) => (e.deliveries[0]?.attempts ?? 0) >= 1,
		);
		expect(seen.some((r) => (JSON.parse(r.body) as Body).data.n === 2)).toBe(true);
	});
});
