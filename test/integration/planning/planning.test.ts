import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyReportToPlanning, planningStatements } from "../../../src/planning/db";
import { DEFAULT_REPORT_WINDOW } from "../../../src/devices/slots/domain";
import worker from "../../../src/index";
import { lastClosedNight } from "../../../src/planning/route-plans";
import { call, createTenant, json } from "../helpers";

const INVENTORY = [
	{ slot: "A1", sku: "cola", count: 1, capacity: 10 },
	{ slot: "A2", sku: "water", count: 9, capacity: 10 },
	{ slot: "A3", sku: "chips", count: 0, capacity: 8 },
];

async function addMachines(apiKey: string, machines: { id: string; city: string; timezone: string }[]): Promise<void> {
	const devices = machines.map((m) => ({ device_id: m.id, kind: "vending", timezone: m.timezone, city: m.city }));
	const res = await call("POST", "/api/v1/devices/bulk", { token: apiKey, body: { devices } });
	if (res.status !== 201) throw new Error(`bulk failed: ${res.status}`);
}

async function needsOf(tenantId: string, machineId: string) {
	const { results } = await env.DB.prepare(
		"SELECT slot, quantity, report_date FROM restock_needs WHERE tenant_id = ? AND machine_id = ? ORDER BY slot",
	)
		.bind(tenantId, machineId)
		.all();
	return results;
}

async function runCron(at: number): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), env, ctx);
	await waitOnExecutionContext(ctx);
}

describe("applying reports to planning", () => {
	it("replaces a machine's needs with each newer report and ignores an older one", async () => {
		const { tenantId } = await createTenant();
		expect(
			await applyReportToPlanning(env.DB, tenantId, {
				machine_id: "vm-1",
				report_date: "2026-05-09",
				inventory: INVENTORY,
				temperature_c: 4,
				error_codes: [],
			}),
		).toEqual({ needs: 2, tickets: 0 });
		expect(await needsOf(tenantId, "vm-1")).toEqual([
			{ slot: "A1", quantity: 9, report_date: "2026-05-09" },
			{ slot: "A3", quantity: 8, report_date: "2026-05-09" },
		]);
		// Redelivered: nothing changes.
		await applyReportToPlanning(env.DB, tenantId, {
			machine_id: "vm-1",
			report_date: "2026-05-09",
			inventory: INVENTORY,
			temperature_c: 4,
			error_codes: [],
		});
		expect(await needsOf(tenantId, "vm-1")).toHaveLength(2);
		// The next night: restocked except A2, which ran low.
		const next = [
			{ slot: "A1", sku: "cola", count: 10, capacity: 10 },
			{ slot: "A2", sku: "water", count: 2, capacity: 10 },
			{ slot: "A3", sku: "chips", count: 8, capacity: 8 },
		];
		await applyReportToPlanning(env.DB, tenantId, { machine_id: "vm-1", report_date: "2026-05-10", inventory: next });
		expect(await needsOf(tenantId, "vm-1")).toEqual([{ slot: "A2", quantity: 8, report_date: "2026-05-10" }]);
		// A late redelivery of the older report does not bring old needs back.
		await applyReportToPlanning(env.DB, tenantId, {
			machine_id: "vm-1",
			report_date: "2026-05-09",
			inventory: INVENTORY,
		});
		expect(await needsOf(tenantId, "vm-1")).toEqual([{ slot: "A2", quantity: 8, report_date: "2026-05-10" }]);
		const last = await env.DB.prepare(
			"SELECT report_date FROM device_last_report WHERE tenant_id = ? AND device_id = 'vm-1'",
		)
			.bind(tenantId)
			.first();
		expect(last).toEqual({ report_date: "2026-05-10" });
	});

	it("opens tickets once per machine, reason and day, and lists them by status", async () => {
		const { tenantId, apiKey } = await createTenant();
		const report = {
			machine_id: "vm-2",
			report_date: "2026-05-09",
			inventory: [],
			temperature_c: 15,
			error_codes: ["E12"],
		};
		await applyReportToPlanning(env.DB, tenantId, report);
		await applyReportToPlanning(env.DB, tenantId, report);
		await applyReportToPlanning(env.DB, tenantId, { ...report, report_date: "2026-05-10", temperature_c: 5 });
		const open = (await json(await call("GET", "/api/v1/maintenance/tickets?status=open", { token: apiKey }))) as {
			tickets: { ticket_id: string; reason: string; day: string }[];
		};
		expect(open.tickets.map((t) => `${t.reason}@${t.day}`).sort()).toEqual([
			"error:E12@2026-05-09",
			"error:E12@2026-05-10",
			"temperature_high@2026-05-09",
		]);
		const first = open.tickets[0]?.ticket_id ?? "";
		expect((await call("POST", `/api/v1/maintenance/tickets/${first}/close`, { token: apiKey })).status).toBe(200);
		const closed = (await json(await call("GET", "/api/v1/maintenance/tickets?status=closed", { token: apiKey }))) as {
			tickets: { ticket_id: string }[];
		};
		expect(closed.tickets.map((t) => t.ticket_id)).toEqual([first]);
		expect((await call("GET", "/api/v1/maintenance/tickets?status=maybe", { token: apiKey })).status).toBe(400);
		// Another tenant sees none of them.
		const other = await createTenant("other");
		expect(await json(await call("GET", "/api/v1/maintenance/tickets", { token: other.apiKey }))).toEqual({
			tickets: [],
			next_cursor: null,
		});
	});
});

describe("the cron", () => {
	it("builds each city's morning plan in its own time zone, once", async () => {
		const { tenantId, apiKey } = await createTenant();
		await addMachines(apiKey, [
			{ id: "ber-1", city: "berlin", timezone: "Europe/Berlin" },
			{ id: "ber-2", city: "berlin", timezone: "Europe/Berlin" },
			{ id: "nyc-1", city: "nyc", timezone: "America/New_York" },
		]);
		for (const id of ["ber-1", "ber-2", "nyc-1"])
			await applyReportToPlanning(env.DB, tenantId, {
				machine_id: id,
				report_date: "2026-12-01",
				inventory: INVENTORY,
			});
		await applyReportToPlanning(env.DB, tenantId, {
			machine_id: "ber-2",
			report_date: "2026-12-01",
			inventory: [{ slot: "B1", sku: "gum", count: 0, capacity: 30 }],
		});
		// 06:00 in Berlin (UTC+1 in December) is 00:00 in New York: Berlin gets its plan, New York not yet.
		const at = Date.UTC(2026, 11, 2, 5, 0);
		await runCron(at);
		await runCron(at + 15 * 60_000);
		const plans = (await json(
			await call("GET", "/api/v1/restock/plans?city=berlin&date=2026-12-02", { token: apiKey }),
		)) as { plans: unknown[] };
		expect(plans.plans).toEqual([
			{
				city: "berlin",
				date: "2026-12-02",
				timezone: "Europe/Berlin",
				machines: 2,
				units: 47,
				built_at: new Date(at).toISOString(),
				stops: [
					{
						machine_id: "ber-1",
						items: [
							{ slot: "A1", sku: "cola", quantity: 9 },
							{ slot: "A3", sku: "chips", quantity: 8 },
						],
					},
					{ machine_id: "ber-2", items: [{ slot: "B1", sku: "gum", quantity: 30 }] },
				],
			},
		]);
		expect(await json(await call("GET", "/api/v1/restock/plans?city=nyc", { token: apiKey }))).toEqual({ plans: [] });
		await runCron(Date.UTC(2026, 11, 2, 11, 0));
		const nyc = (await json(await call("GET", "/api/v1/restock/plans?city=nyc", { token: apiKey }))) as {
			plans: { date: string; units: number }[];
		};
		expect(nyc.plans).toMatchObject([{ date: "2026-12-02", units: 17 }]);
		expect((await call("GET", "/api/v1/restock/plans?date=2-12-2026", { token: apiKey })).status).toBe(400);
	});

	it("opens a missed-report ticket for a machine without its report, once, and closes it on a late report", async () => {
		const { tenantId, apiKey } = await createTenant();
		await addMachines(apiKey, [
			{ id: "ok-1", city: "tokyo", timezone: "Asia/Tokyo" },
			{ id: "late-1", city: "tokyo", timezone: "Asia/Tokyo" },
		]);
		const at = Date.now() + 2 * 86_400_000;
		const night = lastClosedNight("Asia/Tokyo", DEFAULT_REPORT_WINDOW, 60 * 60_000, at);
		if (!night) throw new Error("no closed night");
		await applyReportToPlanning(env.DB, tenantId, { machine_id: "ok-1", report_date: night.date, inventory: [] });
		await runCron(at);
		await runCron(at + 60_000);
		const open = (await json(await call("GET", "/api/v1/maintenance/tickets?status=open", { token: apiKey }))) as {
			tickets: { machine_id: string; reason: string; day: string }[];
		};
		expect(open.tickets).toEqual([
			expect.objectContaining({ machine_id: "late-1", reason: "missed_report", day: night.date }),
		]);
		await applyReportToPlanning(env.DB, tenantId, { machine_id: "late-1", report_date: night.date, inventory: [] });
		expect(await json(await call("GET", "/api/v1/maintenance/tickets?status=open", { token: apiKey }))).toMatchObject({
			tickets: [],
		});
		expect(
			await json(await call("GET", "/api/v1/maintenance/tickets?status=closed&machine_id=late-1", { token: apiKey })),
		).toMatchObject({ tickets: [{ reason: "missed_report" }] });
	});

	it("does not ticket a machine registered after the night's window opened", async () => {
		const { apiKey } = await createTenant();
		await addMachines(apiKey, [{ id: "new-1", city: "la", timezone: "America/Los_Angeles" }]);
		await runCron(Date.now());
		expect(await json(await call("GET", "/api/v1/maintenance/tickets", { token: apiKey }))).toMatchObject({
			tickets: [],
		});
	});
});

describe("planning statements inside a consumer's own batch", () => {
	it("apply the same as applyReportToPlanning when several reports share one batch", async () => {
		const { tenantId } = await createTenant();
		const reports = ["m-1", "m-2", "m-3"].map((id) => ({
			machine_id: id,
			report_date: "2026-05-09",
			inventory: INVENTORY,
			temperature_c: 20,
			error_codes: [],
		}));
		await env.DB.batch(reports.flatMap((r) => planningStatements(env.DB, tenantId, r).statements));
		for (const r of reports) expect(await needsOf(tenantId, r.machine_id)).toHaveLength(2);
		const tickets = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM maintenance_tickets WHERE tenant_id = ? AND reason = 'temperature_high'",
		)
			.bind(tenantId)
			.first<{ n: number }>();
		expect(tickets?.n).toBe(3);
	});
});
