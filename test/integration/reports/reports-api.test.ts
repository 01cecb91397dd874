import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openReport } from "../../../src/reports/service";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { getReport, pastDay, postReport, resultOf, seedTruck, waitForReport } from "./reports-helpers";

function rowsOf(body: Json): Json[] {
	const rows = body.rows;
	if (!Array.isArray(rows)) throw new Error("no rows");
	return rows.filter((r): r is Json => typeof r === "object" && r !== null);
}

describe("reports API", () => {
	it("computes a truck_distance report and serves it as JSON and CSV; a refresh gets the same report", async () => {
		const { apiKey } = await createTenant();
		const { tenantId } = await createTenant("other");
		const tenant = await createTenant("fleet");
		const day1 = pastDay(3);
		const day2 = pastDay(2);
		await seedTruck(tenant.tenantId, "t1", day1.start, 61);
		await seedTruck(tenant.tenantId, "t2", day2.start, 11);
		await seedTruck(tenantId, "t1", day1.start, 5); // another tenant's truck: never counted
		const body = { type: "truck_distance", params: { from: day1.date, to: day2.date } };

		const first = await postReport(tenant.apiKey, body);
		expect(first.status, await first.clone().text()).toBe(202);
		const created = await json(first);
		expect(created.report_id).toMatch(/^rep_[0-9a-f]{32}$/);
		const again = await postReport(tenant.apiKey, {
			params: { to: day2.date, from: day1.date },
			type: "truck_distance",
		});
		expect(again.status).toBe(200);
		expect((await json(again)).report_id).toBe(created.report_id);
		// Another tenant asking for the same params gets a report of its own.
		const other = await postReport(apiKey, body);
		expect(other.status).toBe(202);
		expect((await json(other)).report_id).not.toBe(created.report_id);

		const id = String(created.report_id);
		const done = await waitForReport(tenant.apiKey, id);
		expect(done).toMatchObject({ progress: 1, chunks_done: 2, chunks_total: 2, error: null });
		expect(done.result).toMatchObject({ rows: 2, json: `/api/v1/reports/${id}/result?format=json` });

		const res = await resultOf(tenant.apiKey, id, "json");
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("application/json");
		const rows = rowsOf(await json(res));
		expect(rows.map((r) => [r.day, r.truck_id, r.points])).toEqual([
			[day1.date, "t1", 61],
			[day2.date, "t2", 11],
		]);
		expect(Number(rows[0]?.distance_km)).toBeCloseTo(60 * 1.112, 0);
		expect(rows[0]?.moving_s).toBe(3600);
		expect(Number(rows[0]?.avg_speed_kmh)).toBeCloseTo(66.7, 0);

		const csv = await resultOf(tenant.apiKey, id, "csv");
		expect(csv.headers.get("Content-Type")).toContain("text/csv");
		const lines = (await csv.text()).trim().split("\r\n");
		expect(lines[0]).toBe("day,truck_id,points,distance_km,moving_s,idle_s,avg_speed_kmh,max_speed_kmh");
		expect(lines).toHaveLength(3);
		expect(lines[1]?.startsWith(`${day1.date},t1,61,`)).toBe(true);

		// A refresh after completion answers at once with the finished report.
		const cached = await postReport(tenant.apiKey, body);
		expect(cached.status).toBe(200);
		expect(await json(cached)).toMatchObject({ report_id: id, status: "completed" });
	});

	it("answers a later request with the fresh cached result instead of computing again", async () => {
		const { tenantId, apiKey } = await createTenant();
		const day = pastDay(4);
		await seedTruck(tenantId, "t1", day.start, 3);
		const res = await postReport(apiKey, { type: "truck_distance", params: { from: day.date, to: day.date } });
		const id = String((await json(res)).report_id);
		await waitForReport(apiKey, id);
		const principal = { tenantId, tenantName: "acme", apiKeyId: "another-key", routeLimits: null };
		const later = await openReport(
			env,
			principal,
			"truck_distance",
			{ from: day.date, to: day.date },
			Date.now() + 3_600_000,
		);
		expect(later).toMatchObject({ created: false, cached: true });
		expect(later.report.id).toBe(id);
	});

	it("rejects an unknown type and invalid params with 400 and the offending fields", async () => {
		const { apiKey } = await createTenant();
		const fields = async (res: Response) => {
			expect(res.status).toBe(400);
			const body = await json(res);
			return JSON.stringify(body.error);
		};
		expect(await fields(await postReport(apiKey, { type: "nope", params: {} }))).toContain('"path":"type"');
		expect(
			await fields(await postReport(apiKey, { type: "truck_distance", params: { from: "2026-01-05" } })),
		).toContain('"path":"params.to"');
		expect(
			await fields(await postReport(apiKey, { type: "job_latency", params: { from: "2026-01-01", to: "2026-03-01" } })),
		).toContain("at most 31 days");
		expect(
			await fields(
				await postReport(apiKey, { type: "vending_sales", params: { from: "2026-02-01", to: "2026-01-01" } }),
			),
		).toContain("from must not be after to");
		expect(
			await fields(
				await postReport(apiKey, {
					type: "truck_distance",
					params: { from: "2026-01-01", to: "2026-01-01", truck_ids: [] },
				}),
			),
		).toContain("params.truck_ids");
	});

	it("answers 404 for an unknown id and for another tenant's report, and 409 for an unfinished result", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const day = pastDay(5);
		const principal = { tenantId: a.tenantId, tenantName: "a", apiKeyId: "k", routeLimits: null };
		// Opened but never enqueued: it stays queued.
		const { report } = await openReport(env, principal, "truck_distance", { from: day.date, to: day.date }, Date.now());
		expect((await getReport(a.apiKey, report.id)).status).toBe("queued");

		const unfinished = await resultOf(a.apiKey, report.id, "json");
		expect(unfinished.status).toBe(409);
		expect((await json(unfinished)).error).toMatchObject({
			code: "report_not_ready",
			details: { status: "queued", progress: 0 },
		});

		for (const path of [`/api/v1/reports/${report.id}`, `/api/v1/reports/${report.id}/result?format=csv`]) {
			const res = await call("GET", path, { token: b.apiKey });
			expect(res.status).toBe(404);
		}
		expect((await call("GET", `/api/v1/reports/rep_${"0".repeat(32)}`, { token: a.apiKey })).status).toBe(404);
		expect((await call("GET", "/api/v1/reports/not-an-id", { token: a.apiKey })).status).toBe(400);
		const list = await json(await call("GET", "/api/v1/reports", { token: b.apiKey }));
		expect(list.reports).toEqual([]);
	});

	it("lists a tenant's reports newest first with a cursor", async () => {
		const { tenantId, apiKey } = await createTenant();
		const principal = { tenantId, tenantName: "acme", apiKeyId: "k", routeLimits: null };
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			const day = pastDay(10 + i);
			const opened = await openReport(env, principal, "job_latency", { from: day.date, to: day.date }, Date.now() + i);
			ids.push(opened.report.id);
		}
		const first = await json(await call("GET", "/api/v1/reports?limit=2", { token: apiKey }));
		const page1 = Array.isArray(first.reports) ? first.reports.map((r: Json) => r.report_id) : [];
		expect(page1).toEqual([ids[2], ids[1]]);
		expect(typeof first.next_cursor).toBe("string");
		const second = await json(
			await call("GET", `/api/v1/reports?limit=2&cursor=${String(first.next_cursor)}`, { token: apiKey }),
		);
		expect(Array.isArray(second.reports) ? second.reports.map((r: Json) => r.report_id) : []).toEqual([ids[0]]);
		expect(second.next_cursor).toBeNull();
		expect((await call("GET", "/api/v1/reports?cursor=bogus", { token: apiKey })).status).toBe(400);
	});
});
