import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepRetention } from "../../../src/platform/retention";
import { reportRetentionTargets } from "../../../src/reports/retention";
import { openReport } from "../../../src/reports/service";
import { call, createTenant, json } from "../helpers";
import { getReport, pastDay, postReport, resultOf, seedTruck, waitForReport } from "./reports-helpers";

const slot = (s: string, sku: string, count: number) => ({ slot: s, sku, count, capacity: 10 });

async function seedMachine(tenantId: string, machineId: string, city: string | null): Promise<void> {
	if (city === null) return;
	await env.DB.prepare(
		`INSERT INTO devices (tenant_id, device_id, kind, timezone, city, token_hash, token_prefix, created_at)
 VALUES (?, ?, 'vending', 'UTC', ?, ?, 'x', 0)`,
	)
		.bind(tenantId, machineId, city, `${tenantId}-${machineId}`)
		.run();
}

async function seedMachineReport(
	tenantId: string,
	machineId: string,
	date: string,
	inventory: unknown[],
): Promise<void> {
	await env.DB.prepare(
		`INSERT INTO machine_reports (tenant_id, machine_id, report_date, inventory, cash_cents, temperature_c, error_codes, firmware, received_at, message_id)
 VALUES (?, ?, ?, ?, 0, 4, '[]', '1.0', 0, ?)`,
	)
		.bind(tenantId, machineId, date, JSON.stringify(inventory), `${machineId}-${date}`)
		.run();
}

describe("vending_sales", () => {
	it("sums sales, stock-outs and restock needs per machine and per city over the range", async () => {
		const { tenantId, apiKey } = await createTenant();
		const [d0, d1, d2] = [pastDay(12), pastDay(11), pastDay(10)];
		await seedMachine(tenantId, "m1", "Oslo");
		await seedMachine(tenantId, "m2", "Oslo");
		// d0 is the day before the range: it only supplies the comparison for d1.
		await seedMachineReport(tenantId, "m1", d0.date, [slot("A", "cola", 9)]);
		await seedMachineReport(tenantId, "m1", d1.date, [slot("A", "cola", 4)]);
		await seedMachineReport(tenantId, "m1", d2.date, [slot("A", "cola", 0)]);
		await seedMachineReport(tenantId, "m2", d2.date, [slot("A", "gum", 7)]);
		await seedMachineReport(tenantId, "m3", d2.date, [slot("A", "gum", 10)]);

		const res = await postReport(apiKey, { type: "vending_sales", params: { from: d1.date, to: d2.date } });
		expect(res.status).toBe(202);
		const id = String((await json(res)).report_id);
		await waitForReport(apiKey, id);
		const body: { rows: Record<string, unknown>[] } = await (await resultOf(apiKey, id, "json")).json();
		expect(body.rows).toEqual([
			{
				level: "machine",
				id: "m1",
				city: "Oslo",
				machines: 1,
				days_reported: 2,
				days_compared: 2,
				units_sold: 9,
				units_restocked: 0,
				stockout_slot_days: 1,
				restock_units: 10,
			},
			{
				level: "machine",
				id: "m2",
				city: "Oslo",
				machines: 1,
				days_reported: 1,
				days_compared: 0,
				units_sold: 0,
				units_restocked: 0,
				stockout_slot_days: 0,
				restock_units: 3,
			},
			{
				level: "machine",
				id: "m3",
				city: "unknown",
				machines: 1,
				days_reported: 1,
				days_compared: 0,
				units_sold: 0,
				units_restocked: 0,
				stockout_slot_days: 0,
				restock_units: 0,
			},
			{
				level: "city",
				id: "Oslo",
				city: "Oslo",
				machines: 2,
				days_reported: 3,
				days_compared: 2,
				units_sold: 9,
				units_restocked: 0,
				stockout_slot_days: 1,
				restock_units: 13,
			},
			{
				level: "city",
				id: "unknown",
				city: "unknown",
				machines: 1,
				days_reported: 1,
				days_compared: 0,
				units_sold: 0,
				units_restocked: 0,
				stockout_slot_days: 0,
				restock_units: 0,
			},
		]);
		const csv = await (await resultOf(apiKey, id, "csv")).text();
		expect(csv.split("\r\n")[1]).toBe("machine,m1,Oslo,1,2,2,9,0,1,10");
	});
});

describe("report failure and retention", () => {
	it("fails a report whose step exhausted its retries; its result answers 409", async () => {
		const { tenantId, apiKey } = await createTenant();
		const principal = { tenantId, tenantName: "acme", apiKeyId: "k", routeLimits: null };
		const day = pastDay(8);
		const { report } = await openReport(env, principal, "truck_distance", { from: day.date, to: day.date }, Date.now());
		const batch = createMessageBatch<unknown>("floodgate-reports-dlq", [
			{ id: "d1", timestamp: new Date(), attempts: 1, body: { report_id: report.id, step: 0 } },
			{ id: "d2", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
		]);
		const ctx = createExecutionContext();
		const { default: worker } = await import("../../../src/index");
		await worker.queue(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["d1", "d2"]);
		const failed = await getReport(apiKey, report.id);
		expect(failed).toMatchObject({ status: "failed", result: null });
		expect(String(failed.error)).toContain("failed after every retry");
		const res = await resultOf(apiKey, report.id, "json");
		expect(res.status).toBe(409);
		expect((await json(res)).error).toMatchObject({ code: "report_failed" });
	});

	it("deletes expired results from R2 and D1 in bounded batches and keeps fresh ones", async () => {
		const { tenantId, apiKey } = await createTenant();
		const day = pastDay(9);
		await seedTruck(tenantId, "t1", day.start, 5);
		const res = await postReport(apiKey, { type: "truck_distance", params: { from: day.date, to: day.date } });
		const id = String((await json(res)).report_id);
		const done = await waitForReport(apiKey, id);
		const expiresAt = Date.parse(String(done.expires_at));
		// A historical range is cached for a day.
		expect(expiresAt - Date.parse(String(done.finished_at))).toBe(86_400_000);

		const rows = async (table: string) =>
			(
				await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${table === "reports" ? "id" : "report_id"} = ?`)
					.bind(id)
					.first<{ n: number }>()
			)?.n;
		// Other tests' reports in this file may expire earlier; this one is kept until its expiry.
		await sweepRetention(reportRetentionTargets(env, expiresAt - 1));
		expect(await env.REPORTS.head(`${tenantId}/${id}.json`)).not.toBeNull();
		expect([await rows("reports"), await rows("report_chunks"), await rows("report_partials")]).toEqual([1, 1, 1]);

		const swept = await sweepRetention(reportRetentionTargets(env, expiresAt + 1), {
			batchSize: 500,
			batchesPerTarget: 2,
		});
		expect(swept.report_chunks).toBeGreaterThanOrEqual(1);
		expect(swept.report_partials).toBeGreaterThanOrEqual(1);
		expect(swept.reports).toBeGreaterThanOrEqual(1);
		expect(await env.REPORTS.head(`${tenantId}/${id}.json`)).toBeNull();
		expect(await env.REPORTS.head(`${tenantId}/${id}.csv`)).toBeNull();
		expect([await rows("reports"), await rows("report_chunks"), await rows("report_partials")]).toEqual([0, 0, 0]);
		expect((await call("GET", `/api/v1/reports/${id}`, { token: apiKey })).status).toBe(404);
	});

	it('sweeps an expired report from the "*/5 * * * *" cron of the Worker', async () => {
		const { tenantId, apiKey } = await createTenant();
		const day = pastDay(13);
		await seedTruck(tenantId, "t1", day.start, 4);
		const id = String(
			(await json(await postReport(apiKey, { type: "truck_distance", params: { from: day.date, to: day.date } })))
				.report_id,
		);
		await waitForReport(apiKey, id);
		await env.DB.prepare("UPDATE reports SET expires_at = ? WHERE id = ?")
			.bind(Date.now() - 1, id)
			.run();
		const ctx = createExecutionContext();
		const { default: worker } = await import("../../../src/index");
		await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);
		expect(await env.REPORTS.head(`${tenantId}/${id}.json`)).toBeNull();
		const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM reports WHERE id = ?").bind(id).first<{ n: number }>();
		expect(left?.n).toBe(0);
	});
});

describe("report lane consumer", () => {
	it("acks a step of an unknown report, and leaves a malformed message to retry towards the DLQ", async () => {
		const batch = createMessageBatch<unknown>("floodgate-reports-short", [
			{ id: "gone", timestamp: new Date(), attempts: 1, body: { report_id: `rep_${"f".repeat(32)}`, step: 0 } },
			{ id: "bad", timestamp: new Date(), attempts: 1, body: { report_id: "x" } },
		]);
		const ctx = createExecutionContext();
		const { default: worker } = await import("../../../src/index");
		await worker.queue(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks).toEqual(["gone"]);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
	});
});
