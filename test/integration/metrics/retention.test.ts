import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metricsRetentionTargets } from "../../../src/metrics/retention";
import { sweepRetention } from "../../../src/platform/retention";
import { createTenant } from "../helpers";
import { countRows } from "./metrics-helpers";

const DAY = 86_400_000;

async function seedRaw(tenantId: string, prefix: string, rows: number, ts: number): Promise<void> {
	await env.DB.prepare(
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
 INSERT INTO metric_samples (message_id, sample_index, tenant_id, series_id, ts, value, rolled) SELECT ?, i, ?, 's', ? + i, 1, 1 FROM n`,
	)
		.bind(rows, prefix, tenantId, ts)
		.run();
}

describe("metrics retention", () => {
	it("deletes raw samples past 2 days in bounded batches, keeping recent ones and rollups", async () => {
		const { tenantId } = await createTenant();
		const now = Date.now();
		await seedRaw(tenantId, "old", 1_200, now - 3 * DAY);
		await seedRaw(tenantId, "new", 10, now - DAY);
		await env.DB.prepare(
			`INSERT INTO metric_rollups (tenant_id, series_id, resolution_ms, bucket_start, min, max, sum, count, last, last_ts)
 VALUES (?, 's', 60000, ?, 1, 1, 1, 1, 1, 0), (?, 's', 60000, ?, 1, 1, 1, 1, 1, 0), (?, 's', 3600000, ?, 1, 1, 1, 1, 1, 0)`,
		)
			.bind(tenantId, now - 31 * DAY, tenantId, now - 3 * DAY, tenantId, now - 31 * DAY)
			.run();
		const raw = () => countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ?", tenantId);

		const bounds = { batchSize: 500, batchesPerTarget: 2 };
		const first = await sweepRetention(metricsRetentionTargets(env, now), bounds);
		expect(first.metric_samples).toBe(1_000);
		expect(await raw()).toBe(210);
		const second = await sweepRetention(metricsRetentionTargets(env, now), bounds);
		expect(second.metric_samples).toBe(200);
		expect(await raw()).toBe(10);
		// 1-minute rollups are kept 30 days, 1-hour ones 400.
		expect(second.metric_rollups_1m).toBe(0);
		expect(
			await countRows(
				"SELECT COUNT(*) AS n FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = 60000",
				tenantId,
			),
		).toBe(1);
		expect(
			await countRows(
				"SELECT COUNT(*) AS n FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = 3600000",
				tenantId,
			),
		).toBe(1);
	});
});
