import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { call, createTenant, json } from "../helpers";
import { ingest } from "../metrics/metrics-helpers";
import { RECEIVER, createEndpoint, interceptReceiver, waitFor } from "./webhooks-helpers";

afterEach(() => vi.restoreAllMocks());

async function runCron(cron: string, scheduledTime: number): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime, cron }), env, ctx);
	await waitOnExecutionContext(ctx);
}

describe("events the platform publishes", () => {
	it("sends alert.firing when a metric alert rule starts firing (issue 16's alert notifications)", async () => {
		const seen = interceptReceiver(() => new Response("ok"));
		const { tenantId, apiKey } = await createTenant();
		await createEndpoint(apiKey, { url: `${RECEIVER}/alerts`, event_types: ["alert.*"] });
		const now = Date.now();
		await ingest(apiKey, tenantId, [
			{ name: "temp_c", labels: { site: "a" }, type: "gauge", value: 35, timestamp: now - 30_000 },
		]);
		const body = {
			name: "hot",
			expr: { name: "temp_c", match: { site: "a" }, agg: "max", window_seconds: 300 },
			op: ">",
			threshold: 30,
			for_seconds: 60,
		};
		const { id } = await json(await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body }));
		await runCron("* * * * *", now);
		// Pending is not a notification.
		expect(seen).toHaveLength(0);
		await runCron("* * * * *", now + 90_000);
		const got = await waitFor(
			async () => seen.find((r) => r.url.endsWith("/alerts")),
			(r) => r !== undefined,
		);
		expect(JSON.parse(got?.body ?? "{}")).toMatchObject({
			type: "alert.firing",
			data: { rule_id: id, name: "hot", state: "firing", value: 35 },
		});
	});
});
