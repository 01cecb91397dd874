import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleMetricsBatch } from "../../../queues/metrics";
import { handleMetricsDeadLetterBatch } from "../../../queues/metrics-dlq";
import { createTenant, json } from "../helpers";
import { countRows, ingest, MINUTE, postSamples, recentHour } from "./metrics-helpers";

const gauge = (value: number, labels: Record<string, string> = {}) => ({
	name: "temp_c",
	labels,
	type: "gauge",
	value,
});

describe("metrics ingest", () => {
	it("rejects bad names, too many labels and oversized batches with the fields named", async () => {
		const { apiKey } = await createTenant();
		const badName = await postSamples(apiKey, [{ ...gauge(1), name: "1bad" }]);
		expect(badName.status).toBe(400);
		expect(JSON.stringify(await json(badName))).toContain("samples.0.name");
		const labels = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, "v"]));
		const tooMany = await postSamples(apiKey, [gauge(1, labels)]);
		expect(tooMany.status).toBe(400);
		expect(JSON.stringify(await json(tooMany))).toContain("at most 16 labels");
		const reserved = await postSamples(apiKey, [gauge(1, { __x: "v" })]);
		expect(reserved.status).toBe(400);
		expect(
			(
				await postSamples(
					apiKey,
					Array.from({ length: 1001 }, () => gauge(1)),
				)
			).status,
		).toBe(400);
		const old = await postSamples(apiKey, [{ ...gauge(1), timestamp: Date.now() - 3 * 86_400_000 }]);
		expect(old.status).toBe(400);
		expect(JSON.stringify(await json(old))).toContain("samples.0.timestamp");
	});

	it("refuses a request over the tenant's series cap with 422 and enqueues none of it", async () => {
		const { tenantId, apiKey } = await createTenant();
		// 9,999 series already (the cap is 10,000): one new series fits, two do not.
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
 INSERT INTO metric_series (tenant_id, series_id, name, labels, type, created_at)
 SELECT ?, printf('%032d', i), 'seeded', '{}', 'gauge', 0 FROM n`,
		)
			.bind(tenantId)
			.run();
		const over = await postSamples(apiKey, [gauge(1, { a: "1" }), gauge(2, { a: "2" }), gauge(3, { a: "2" })]);
		expect(over.status).toBe(422);
		const body = await json(over);
		expect(body.error).toMatchObject({
			code: "cardinality_exceeded",
			details: { cap: 10000, current: 9999, new_series: 2 },
		});
		expect(JSON.stringify(body)).toContain("10000");
		expect(await countRows("SELECT COUNT(*) AS n FROM metric_series WHERE tenant_id = ?", tenantId)).toBe(9999);
		// One new series fits; samples of known series never count against the cap.
		await ingest(apiKey, tenantId, [gauge(1, { a: "1" }), gauge(5, { a: "1" })]);
		expect(await countRows("SELECT COUNT(*) AS n FROM metric_series WHERE tenant_id = ?", tenantId)).toBe(10000);
		expect((await postSamples(apiKey, [gauge(7, { a: "1" })])).status).toBe(202);
		expect((await postSamples(apiKey, [gauge(7, { a: "3" })])).status).toBe(422);
		// Nothing of the refused requests reached storage: only the two accepted samples (+ the last one, eventually).
		expect(
			await countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ? AND value IN (2, 3)", tenantId),
		).toBe(0);
	});

	it("answers 202 and the consumer writes the samples and their rollups", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = recentHour();
		await ingest(
			apiKey,
			tenantId,
			Array.from({ length: 60 }, (_, i) => ({ ...gauge(i), timestamp: t + i * 10_000 })),
		);
		expect(await countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ?", tenantId)).toBe(60);
		// 60 samples 10 s apart: 10 one-minute windows and one hour.
		expect(
			await countRows(
				"SELECT COUNT(*) AS n FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = ?",
				tenantId,
				MINUTE,
			),
		).toBe(10);
		expect(
			await countRows(
				"SELECT SUM(count) AS n FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = 3600000",
				tenantId,
			),
		).toBe(60);
	});
});

describe("the metrics consumer", () => {
	const message = (tenantId: string, id: string) => ({
		id,
		tenant_id: tenantId,
		samples: [
			{ series_id: "a".repeat(32), ts: recentHour() + 1_000, value: 4, buckets: null },
			{ series_id: "a".repeat(32), ts: recentHour() + 2_000, value: 6, buckets: null },
		],
	});

	it("writes a redelivered message once: raw samples and rollups are not doubled", async () => {
		const { tenantId } = await createTenant();
		for (const attempt of [1, 2]) {
			const batch = createMessageBatch<unknown>("floodgate-metrics", [
				{ id: `q${attempt}`, timestamp: new Date(), attempts: attempt, body: message(tenantId, "mb_same") },
			]);
			const ctx = createExecutionContext();
			await handleMetricsBatch(batch, env, ctx);
			expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`q${attempt}`]);
		}
		expect(await countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ?", tenantId)).toBe(2);
		const rollup = await env.DB.prepare(
			"SELECT min, max, sum, count, last FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = 60000",
		)
			.bind(tenantId)
			.first();
		expect(rollup).toEqual({ min: 4, max: 6, sum: 10, count: 2, last: 6 });
	});

	it("retries an invalid message on its own and acks the valid ones", async () => {
		const { tenantId } = await createTenant();
		const batch = createMessageBatch<unknown>("floodgate-metrics", [
			{ id: "bad", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
			{ id: "good", timestamp: new Date(), attempts: 1, body: message(tenantId, "mb_good") },
		]);
		const ctx = createExecutionContext();
		await handleMetricsBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks).toEqual(["good"]);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
	});

	it("stores dead letters in D1 before acking them", async () => {
		const batch = createMessageBatch<unknown>("floodgate-metrics-dlq", [
			{ id: "dead-1", timestamp: new Date(), attempts: 11, body: { nonsense: "dead" } },
		]);
		const ctx = createExecutionContext();
		await handleMetricsDeadLetterBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
		expect(
			await countRows(
				"SELECT COUNT(*) AS n FROM metric_dead_letters WHERE message_id = 'dead-1' AND body LIKE '%dead%'",
			),
		).toBe(1);
	});
});
