import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleTelemetryBackfillBatch } from "../../../queues/telemetry-backfill";
import { app } from "../../../src/index";
import type { TelemetryMessage } from "../../../src/telemetry/domain";
import { BASE, call, createTenant, json } from "../helpers";
import { countRows, locationsMessage, waitFor } from "./telemetry-helpers";

// Ages count from the file's start, so two points never share a (truck, recorded_at) key.
const START = Date.now();
let tick = 0;

/** A point recorded about `ageMs` ago (distinct per call). */
function pointAged(truckId: string, ageMs: number): Record<string, unknown> {
	tick += 1;
	return { truck_id: truckId, lat: 48.1, lng: 11.6, recorded_at: new Date(START - ageMs - tick).toISOString() };
}

async function post(apiKey: string, path: string, body: unknown, vars: Record<string, string> = {}): Promise<Response> {
	const ctx = createExecutionContext();
	const request = new Request(`${BASE}${path}`, {
		method: "POST",
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
		body: JSON.stringify(body),
	});
	const res = await app.fetch(request, { ...env, ...vars }, ctx);
	await waitOnExecutionContext(ctx);
	return res;
}

async function deliverBackfill(
	messages: { body: TelemetryMessage; id: string; attempts?: number }[],
	vars: Record<string, string> = {},
) {
	const batch = createMessageBatch(
		"floodgate-telemetry-backfill",
		messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
	);
	const delays: Record<string, number | undefined> = {};
	for (const msg of batch.messages) {
		const retry = msg.retry.bind(msg);
		msg.retry = (options) => {
			delays[msg.id] = options?.delaySeconds;
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	await handleTelemetryBackfillBatch(batch, { ...env, ...vars }, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

const HOUR = 3_600_000;
const backfill = (m: TelemetryMessage): TelemetryMessage => ({ ...m, lane: "backfill" });

describe("ingest lanes", () => {
	it("sends old points to the backfill lane and recent ones to the live lane; both land once, counted per lane", async () => {
		const { tenantId, apiKey } = await createTenant();
		const live = Array.from({ length: 30 }, () => pointAged("t-live", 60_000));
		const old = Array.from({ length: 40 }, () => pointAged("t-old", 48 * HOUR));
		const res = await call("POST", "/api/v1/location/batch", { token: apiKey, body: { points: [...live, ...old] } });
		expect(res.status).toBe(202);
		expect(await json(res)).toEqual({ accepted: 70 });
		// A resend of the same points is harmless: each point is stored once, whatever its lane.
		await call("POST", "/api/v1/location/batch", { token: apiKey, body: { points: old.slice(0, 10) } });
		const stats = await waitFor(async () => {
			const s = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
			return s.processed === 80 ? s : undefined;
		});
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(70);
		expect(
			await countRows(
				"SELECT SUM(update_count) AS n FROM telemetry_messages WHERE tenant_id = ? AND lane = 'backfill'",
				tenantId,
			),
		).toBe(50);
		expect(stats.lanes).toEqual({
			live: { enqueued: 30, processed: 30, dead_letters: 0, backlog: 0 },
			backfill: { enqueued: 50, processed: 50, dead_letters: 0, backlog: 0 },
		});
	});

	it("refuses one device's backfill flood with 429 while other devices' live points (and its own) are accepted", async () => {
		const { apiKey } = await createTenant();
		const vars = { TELEMETRY_BACKFILL_DEVICE_POINTS_PER_MINUTE: "10" };
		const week = () => ({ points: Array.from({ length: 500 }, () => pointAged("replayer", 7 * 24 * HOUR)) });
		// The bucket holds one full batch; then it refills at 10 points a minute.
		expect((await post(apiKey, "/api/v1/location/batch", week(), vars)).status).toBe(202);
		const flooded = await post(apiKey, "/api/v1/location/batch", week(), vars);
		expect(flooded.status).toBe(429);
		expect(Number(flooded.headers.get("Retry-After"))).toBeGreaterThan(0);
		expect(await json(flooded)).toMatchObject({
			error: { code: "rate_limited", details: { policies: ["backfill-ingest-device"] } },
		});
		const otherLive = await post(apiKey, "/api/v1/location/update", pointAged("truck-live", 1000), vars);
		expect(otherLive.status).toBe(202);
		const ownLive = await post(apiKey, "/api/v1/location/update", pointAged("replayer", 1000), vars);
		expect(ownLive.status).toBe(202);
		const s = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(s).toMatchObject({ received: 1002, enqueued: 502, rejected: 500 });
	});

	it("paces the backfill consumer to its configured write rate", async () => {
		const { tenantId } = await createTenant();
		const vars = { TELEMETRY_BACKFILL_WRITES_PER_SECOND: "100" };
		const batchOf = (n: number, prefix: string) =>
			Array.from({ length: n / 25 }, (_, i) => ({
				id: `${prefix}-${i}`,
				body: backfill(
					locationsMessage(
						tenantId,
						Array.from({ length: 25 }, () => pointAged(`${prefix}-truck`, 2 * HOUR)),
					),
				),
			}));
		// Warm the limiter's isolate path so its first call does not count in the timing.
		await deliverBackfill(batchOf(25, "warm"), vars);
		const started = Date.now();
		const first = await deliverBackfill(batchOf(150, "a"), vars);
		const second = await deliverBackfill(batchOf(100, "b"), vars);
		const elapsed = Date.now() - started;
		expect(first.explicitAcks).toHaveLength(6);
		expect(second.explicitAcks).toHaveLength(4);
		// 275 updates at 100/s with a burst of 100: the last batch may start only ~1.75 s after the first.
		expect(elapsed).toBeGreaterThanOrEqual(1500);
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(275);
	});

	it("backs off a backfill message whose D1 write fails, without holding back the others", async () => {
		const { tenantId } = await createTenant();
		const good = backfill(locationsMessage(tenantId, [pointAged("t1", 2 * HOUR)]));
		const orphan = backfill(locationsMessage("ten_000000000000000000000000", [pointAged("ghost", 2 * HOUR)]));
		const result = await deliverBackfill([
			{ body: good, id: "good" },
			{ body: orphan, id: "orphan", attempts: 4 },
		]);
		expect(result.explicitAcks).toEqual(["good"]);
		expect(result.delays).toEqual({ orphan: 16 });
	});
});
