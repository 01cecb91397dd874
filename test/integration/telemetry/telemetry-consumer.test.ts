import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleTelemetryBatch } from "../../../queues/telemetry";
import { handleTelemetryDlqBatch } from "../../../queues/telemetry-dlq";
import type { TelemetryMessage } from "../../../src/telemetry/domain";
import { reportSchema } from "../../../src/telemetry/domain";
import { packTelemetry } from "../../../src/telemetry/pack";
import { admin, call, createTenant, json } from "../helpers";
import { countRows, locationsMessage, messageIdFor, point, report, waitFor } from "./telemetry-helpers";

type Delivery = { body: unknown; attempts?: number; id?: string };

async function deliver(queue: string, deliveries: Delivery[]) {
	const batch = createMessageBatch(
		queue,
		deliveries.map((d, i) => ({
			id: d.id ?? `q-${Date.now()}-${i}`,
			timestamp: new Date(),
			attempts: d.attempts ?? 1,
			body: d.body,
		})),
	);
	// getQueueResult does not report per-message delays, so observe the retry calls themselves.
	const delays: Record<string, number | undefined> = {};
	for (const msg of batch.messages) {
		const retry = msg.retry.bind(msg);
		msg.retry = (options) => {
			delays[msg.id] = options?.delaySeconds;
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	if (queue === "floodgate-telemetry") await handleTelemetryBatch(batch, env, ctx);
	else await handleTelemetryDlqBatch(batch, env, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

function reportMessage(
	tenantId: string,
	machineId: string,
	overrides: Record<string, unknown>,
	receivedAt: number,
	n: number,
): TelemetryMessage {
	return {
		v: 1,
		id: messageIdFor(n),
		tenant_id: tenantId,
		received_at: receivedAt,
		colo: null,
		country: null,
		kind: "report",
		machine_id: machineId,
		report: reportSchema.parse(report(overrides)),
	};
}

describe("telemetry consumer", () => {
	it("writes a redelivered message once and counts it once", async () => {
		const { tenantId } = await createTenant();
		const message = locationsMessage(tenantId, [point("t1"), point("t1"), point("t2")]);
		const first = await deliver("floodgate-telemetry", [{ body: message }]);
		expect(first.explicitAcks).toHaveLength(1);
		const again = await deliver("floodgate-telemetry", [
			{ body: message, attempts: 2 },
			{ body: message, attempts: 3 },
		]);
		expect(again.explicitAcks).toHaveLength(2);
		expect(again.retryMessages).toEqual([]);
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(3);
		expect(await countRows("SELECT processed AS n FROM telemetry_stats WHERE tenant_id = ?", tenantId)).toBe(3);
		expect(await countRows("SELECT batches AS n FROM telemetry_stats WHERE tenant_id = ?", tenantId)).toBe(2);
	});

	it("lands a packed message's points once with each request's received_at, also when redelivered or dead", async () => {
		const { tenantId, apiKey } = await createTenant();
		const requests = [[point("p1")], [point("p2"), point("p1")], [point("p3")]].map((points, i) => ({
			...locationsMessage(tenantId, points),
			received_at: 1_767_225_600_000 + i * 7,
		}));
		const [packed, ...more] = packTelemetry(requests, () => messageIdFor(900));
		expect(more).toEqual([]);
		expect(packed?.members).toEqual([0, 1, 2]);
		const body = packed?.body;
		expect((await deliver("floodgate-telemetry", [{ body }])).explicitAcks).toHaveLength(1);
		const again = await deliver("floodgate-telemetry", [{ body, attempts: 2 }]);
		expect(again.explicitAcks).toHaveLength(1);
		const rows = await env.DB.prepare(
			"SELECT truck_id, received_at FROM truck_locations WHERE tenant_id = ? ORDER BY recorded_at",
		)
			.bind(tenantId)
			.all<{ truck_id: string; received_at: number }>();
		expect(rows.results.map((r) => [r.truck_id, r.received_at])).toEqual(
			requests.flatMap((m) => (m.kind === "locations" ? m.points.map((p) => [p.truck_id, m.received_at]) : [])),
		);
		expect(await countRows("SELECT processed AS n FROM telemetry_stats WHERE tenant_id = ?", tenantId)).toBe(4);
		// A packed message that dies carries all its points: the dead letter counts them.
		await deliver("floodgate-telemetry-dlq", [{ body: { ...body, id: messageIdFor(901) }, id: "dead-packed" }]);
		const listed = await json(
			await call("GET", `/api/v1/dead-letters?tenant_id=${tenantId}`, { token: env.ADMIN_TOKEN }),
		);
		expect(listed.dead_letters).toEqual([expect.objectContaining({ updates: 4, reason: "retries_exhausted" })]);
		expect(await json(await call("GET", "/api/v1/stats", { token: apiKey }))).toMatchObject({ dead_letters: 4 });
	});

	it("keeps the latest position by recorded_at whatever the delivery order", async () => {
		const { tenantId, apiKey } = await createTenant();
		const older = point("t9", { lat: 1 });
		const newer = point("t9", { lat: 2 });
		await deliver("floodgate-telemetry", [{ body: locationsMessage(tenantId, [newer]) }]);
		await deliver("floodgate-telemetry", [{ body: locationsMessage(tenantId, [older]) }]);
		const trucks = await json(await call("GET", "/api/v1/trucks", { token: apiKey }));
		expect(trucks.trucks).toEqual([
			expect.objectContaining({ truck_id: "t9", lat: 2, recorded_at: newer.recorded_at, colo: "FRA", country: "DE" }),
		]);
		const track = await json(await call("GET", "/api/v1/trucks/t9/track?limit=1", { token: apiKey }));
		expect(track.points).toEqual([expect.objectContaining({ lat: 1 })]);
		const rest = await json(
			await call("GET", `/api/v1/trucks/t9/track?limit=1&cursor=${String(track.next_cursor)}`, { token: apiKey }),
		);
		expect(rest.points).toEqual([expect.objectContaining({ lat: 2 })]);
	});

	it("replaces a report for the same date with a later one, never with an earlier redelivery", async () => {
		const { tenantId, apiKey } = await createTenant();
		const t = Date.now();
		const early = reportMessage(tenantId, "vm-7", { cash_cents: 100 }, t, 1);
		const late = reportMessage(tenantId, "vm-7", { cash_cents: 200 }, t + 5000, 2);
		await deliver("floodgate-telemetry", [{ body: early }, { body: late }]);
		await deliver("floodgate-telemetry", [{ body: early, attempts: 2 }]);
		expect(await countRows("SELECT COUNT(*) AS n FROM machine_reports WHERE tenant_id = ?", tenantId)).toBe(1);
		expect(await countRows("SELECT cash_cents AS n FROM machine_reports WHERE tenant_id = ?", tenantId)).toBe(200);
		const status = await json(await call("GET", "/api/v1/machines/vm-7", { token: apiKey }));
		expect(status.cash_cents).toBe(200);
		// The latest status follows the newest report_date, even when an older date arrives later.
		await deliver("floodgate-telemetry", [
			{ body: reportMessage(tenantId, "vm-7", { report_date: "2026-01-16", cash_cents: 300 }, t, 3) },
		]);
		await deliver("floodgate-telemetry", [
			{ body: reportMessage(tenantId, "vm-7", { report_date: "2026-01-14", cash_cents: 50 }, t + 9000, 4) },
		]);
		expect((await json(await call("GET", "/api/v1/machines/vm-7", { token: apiKey }))).cash_cents).toBe(300);
		expect(await countRows("SELECT COUNT(*) AS n FROM machine_reports WHERE tenant_id = ?", tenantId)).toBe(3);
	});

	it("writes 100 wide report rows in one batch within the 100-parameter limit", async () => {
		const { tenantId } = await createTenant();
		const t = Date.now();
		const deliveries = Array.from({ length: 100 }, (_, i) => ({
			body: reportMessage(tenantId, `vm-${i}`, {}, t, 100 + i),
		}));
		const result = await deliver("floodgate-telemetry", deliveries);
		expect(result.explicitAcks).toHaveLength(100);
		expect(await countRows("SELECT COUNT(*) AS n FROM machine_reports WHERE tenant_id = ?", tenantId)).toBe(100);
		expect(await countRows("SELECT COUNT(*) AS n FROM machine_status WHERE tenant_id = ?", tenantId)).toBe(100);
	});

	it("retries only the failing message, with a backoff that grows with its attempts", async () => {
		const { tenantId } = await createTenant();
		// A tenant that no longer exists: its rows violate the foreign key, the others are fine.
		const orphan = locationsMessage("ten_000000000000000000000000", [point("ghost")]);
		const good = locationsMessage(tenantId, [point("t1")]);
		const result = await deliver("floodgate-telemetry", [
			{ body: good, id: "good" },
			{ body: orphan, id: "orphan", attempts: 3 },
		]);
		expect(result.explicitAcks).toEqual(["good"]);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["orphan"]);
		expect(result.delays).toEqual({ orphan: 8 });
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(1);
	});

	it("dead-letters a message that fails validation at once instead of retrying it", async () => {
		const result = await deliver("floodgate-telemetry", [
			{ body: { v: 1, kind: "locations", id: "msg_bad" }, id: "junk" },
		]);
		expect(result.explicitAcks).toEqual(["junk"]);
		expect(
			await countRows(
				"SELECT COUNT(*) AS n FROM dead_letters WHERE message_id = 'msg_bad' AND reason LIKE 'invalid_message%'",
			),
		).toBe(1);
	});

	it("keeps dead letters for operators and replays them into the queue", async () => {
		const { tenantId, apiKey } = await createTenant();
		const message = locationsMessage(tenantId, [point("t5"), point("t5")]);
		const result = await deliver("floodgate-telemetry-dlq", [{ body: message, id: "dead-1" }]);
		expect(result.ackAll).toBe(true);
		const stats = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(stats.dead_letters).toBe(2);

		expect((await call("GET", "/api/v1/dead-letters", { token: apiKey })).status).toBe(401);
		const listed = await json(
			await call("GET", `/api/v1/dead-letters?tenant_id=${tenantId}`, { token: env.ADMIN_TOKEN }),
		);
		const letters = listed.dead_letters as { id: string; message_id: string; updates: number; reason: string }[];
		expect(letters).toEqual([
			expect.objectContaining({ message_id: message.id, updates: 2, reason: "retries_exhausted" }),
		]);
		const id = letters[0]?.id ?? "";

		const replay = await call("POST", `/api/v1/dead-letters/${id}/replay`, { token: env.ADMIN_TOKEN });
		expect(replay.status).toBe(202);
		expect(await json(replay)).toMatchObject({ id, replay_count: 1, replayed_at: expect.any(String) });
		expect((await call("POST", `/api/v1/dead-letters/${id}/replay`, { token: env.ADMIN_TOKEN })).status).toBe(409);
		// The replayed message goes through the real queue and consumer.
		await waitFor(async () =>
			(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)) === 2
				? true
				: undefined,
		);
		const after = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(after).toMatchObject({ dead_letters: 0, processed: 2 });
		const pending = await json(
			await call("GET", `/api/v1/dead-letters?tenant_id=${tenantId}`, { token: env.ADMIN_TOKEN }),
		);
		expect(pending.dead_letters).toEqual([]);
		expect((await admin("GET", "/tenants")).status).toBe(200);
	});

	it("refuses to replay a dead letter that is not a telemetry message", async () => {
		await deliver("floodgate-telemetry-dlq", [{ body: "garbage", id: "dead-garbage" }]);
		const listed = await json(await call("GET", "/api/v1/dead-letters?limit=200", { token: env.ADMIN_TOKEN }));
		const letter = (listed.dead_letters as { id: string; message_id: string }[]).find(
			(l) => l.message_id === "queue:dead-garbage",
		);
		expect(letter).toBeDefined();
		const res = await call("POST", `/api/v1/dead-letters/${letter?.id ?? ""}/replay`, { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(422);
		expect(await json(res)).toMatchObject({ error: { code: "not_replayable" } });
	});
});
