import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, json } from "../helpers";
import { HOUR, ingest, MINUTE, query, queryValues, recentHour } from "./metrics-helpers";

const seconds = (ms: number) => ms / 1000;

describe("metrics rollups and queries", () => {
	it("rolls known samples up into 1-minute and 1-hour min, max, sum, count and last", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = recentHour();
		const values = [3, 9, 1, 5];
		// Two per minute in the first two minutes of the hour, sent as two requests (two messages).
		const samples = values.map((value, i) => ({
			name: "load",
			labels: { host: "a" },
			type: "gauge",
			value,
			timestamp: t + i * 30_000,
		}));
		await ingest(apiKey, tenantId, samples.slice(0, 3));
		await ingest(apiKey, tenantId, samples.slice(3));
		const rows = await env.DB.prepare(
			"SELECT resolution_ms, bucket_start, min, max, sum, count, last FROM metric_rollups WHERE tenant_id = ? ORDER BY resolution_ms, bucket_start",
		)
			.bind(tenantId)
			.all();
		expect(rows.results).toEqual([
			{ resolution_ms: MINUTE, bucket_start: t, min: 3, max: 9, sum: 12, count: 2, last: 9 },
			{ resolution_ms: MINUTE, bucket_start: t + MINUTE, min: 1, max: 5, sum: 6, count: 2, last: 5 },
			{ resolution_ms: HOUR, bucket_start: t, min: 1, max: 9, sum: 18, count: 4, last: 5 },
		]);
	});

	it("answers from the coarsest tier the step allows, with label matchers", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = recentHour();
		await ingest(apiKey, tenantId, [
			{ name: "reqs", labels: { route: "a" }, type: "gauge", value: 2, timestamp: t + 5_000 },
			{ name: "reqs", labels: { route: "a" }, type: "gauge", value: 4, timestamp: t + 65_000 },
			{ name: "reqs", labels: { route: "b" }, type: "gauge", value: 10, timestamp: t + 5_000 },
		]);
		const range = { name: "reqs", from: seconds(t), to: seconds(t + 2 * MINUTE) };
		const raw = await queryValues(apiKey, { ...range, step: "30s", agg: "sum" });
		expect(raw.tier).toBe("raw");
		expect(raw.points).toEqual([
			{ t, v: 12 },
			{ t: t + 30_000, v: null },
			{ t: t + 60_000, v: 4 },
			{ t: t + 90_000, v: null },
		]);
		const minute = await queryValues(apiKey, { ...range, step: "1m", agg: "max", "match[route]": "a" });
		expect(minute.tier).toBe("1m");
		expect(minute.points).toEqual([
			{ t, v: 2 },
			{ t: t + MINUTE, v: 4 },
		]);
		const hour = await queryValues(apiKey, {
			name: "reqs",
			from: seconds(t),
			to: seconds(t + HOUR),
			step: "1h",
			agg: "avg",
		});
		expect(hour.tier).toBe("1h");
		expect(hour.points).toEqual([{ t, v: 16 / 3 }]);
		const none = await queryValues(apiKey, { ...range, step: "1m", agg: "sum", "match[route]": "zzz" });
		expect(none.points).toEqual([
			{ t, v: null },
			{ t: t + MINUTE, v: null },
		]);
	});

	it("refuses more than 11,000 points with 400 and accepts exactly 11,000", async () => {
		const { apiKey } = await createTenant();
		const from = Math.floor(Date.now() / 1000) - 86_400;
		const over = await query(apiKey, { name: "x", from, to: from + 11_001, step: "1s" });
		expect(over.status).toBe(400);
		expect((await json(over)).error).toMatchObject({
			code: "too_many_points",
			details: { points: 11_001, max_points: 11_000 },
		});
		const exact = await queryValues(apiKey, { name: "x", from, to: from + 11_000, step: "1s" });
		expect(exact.points).toHaveLength(11_000);
		expect((await query(apiKey, { name: "x", from, to: from + 60, step: "1s", "match[bad-name]": "v" })).status).toBe(
			400,
		);
		expect((await query(apiKey, { name: "x", from: from + 60, to: from, step: "1s" })).status).toBe(400);
	});

	it("computes p95 from histogram buckets merged across samples", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = recentHour();
		const h = (ts: number, buckets: Record<string, number>) => ({
			name: "latency_seconds",
			labels: {},
			type: "histogram",
			buckets,
			sum: 1,
			count: buckets["+Inf"],
			timestamp: ts,
		});
		// 50 + 50 observations in one minute, two messages: merged (0.1: 50, 0.5: 90, 1: 100) → p95 = 0.75.
		await ingest(apiKey, tenantId, [h(t + 1_000, { "0.1": 30, "0.5": 45, "1": 50, "+Inf": 50 })]);
		await ingest(apiKey, tenantId, [h(t + 2_000, { "0.1": 20, "0.5": 45, "1": 50, "+Inf": 50 })]);
		const range = { name: "latency_seconds", from: seconds(t), to: seconds(t + MINUTE), agg: "p95" };
		const minute = await queryValues(apiKey, { ...range, step: "1m" });
		expect(minute.tier).toBe("1m");
		expect(minute.points).toEqual([{ t, v: expect.closeTo(0.75, 9) }]);
		const raw = await queryValues(apiKey, { ...range, step: "30s" });
		expect(raw.tier).toBe("raw");
		expect(raw.points).toEqual([
			{ t, v: expect.closeTo(0.75, 9) },
			{ t: t + 30_000, v: null },
		]);
		const stored = await env.DB.prepare(
			"SELECT buckets FROM metric_rollups WHERE tenant_id = ? AND resolution_ms = 60000",
		)
			.bind(tenantId)
			.first<{ buckets: string }>();
		expect(JSON.parse(stored?.buckets ?? "null")).toEqual({ "0.1": 50, "0.5": 90, "1": 100, "+Inf": 100 });
	});

	it("rates counters per second", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = recentHour();
		const c = (value: number, ts: number) => ({
			name: "hits_total",
			labels: {},
			type: "counter",
			value,
			timestamp: ts,
		});
		await ingest(apiKey, tenantId, [c(0, t), c(60, t + 50_000), c(180, t + 110_000)]);
		const rate = await queryValues(apiKey, {
			name: "hits_total",
			from: seconds(t),
			to: seconds(t + 2 * MINUTE),
			step: "1m",
			agg: "rate",
		});
		expect(rate.points).toEqual([
			{ t, v: 1 },
			{ t: t + MINUTE, v: 2 },
		]);
	});

	it("never answers with another tenant's series", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const t = recentHour();
		await ingest(a.apiKey, a.tenantId, [
			{ name: "secret", labels: {}, type: "gauge", value: 42, timestamp: t + 1_000 },
		]);
		const params = { name: "secret", from: seconds(t), to: seconds(t + MINUTE), step: "1m", agg: "max" };
		expect((await queryValues(a.apiKey, params)).points).toEqual([{ t, v: 42 }]);
		expect((await queryValues(b.apiKey, params)).points).toEqual([{ t, v: null }]);
	});
});
