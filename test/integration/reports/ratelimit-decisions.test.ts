import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	flushDecisions,
	MAX_PENDING,
	OVERFLOW_KEY,
	recordServiceDecision,
} from "../../../src/gateway/limiter/decisions";
import { call, createTenant, json, setLimits } from "../helpers";
import type { Json } from "../helpers";
import { MINUTE, pastDay, postReport, resultOf, waitForReport } from "./reports-helpers";

type Counts = { resource: string; limit_key: string; allowed: number; rejected: number };

/** The tenant's recorded decisions summed over minutes, after this isolate's counts are flushed. */
async function recorded(tenantId: string): Promise<Counts[]> {
	await flushDecisions(env.DB);
	const { results } = await env.DB.prepare(
		`SELECT resource, limit_key, SUM(allowed) AS allowed, SUM(rejected) AS rejected FROM ratelimit_decisions
		 WHERE tenant_id = ? GROUP BY resource, limit_key ORDER BY resource, limit_key`,
	)
		.bind(tenantId)
		.all<Counts>();
	return results;
}

async function seedMinute(
	tenantId: string,
	minute: number,
	resource: string,
	key: string,
	allowed: number,
	rejected: number,
) {
	await env.DB.prepare(
		"INSERT INTO ratelimit_decisions (tenant_id, minute, resource, limit_key, allowed, rejected) VALUES (?, ?, ?, ?, ?, ?)",
	)
		.bind(tenantId, minute, resource, key, allowed, rejected)
		.run();
}

function rowsOf(body: Json): Json[] {
	const rows = body.rows;
	if (!Array.isArray(rows)) throw new Error("no rows");
	return rows.filter((r): r is Json => typeof r === "object" && r !== null);
}

describe("rate-limit decisions", () => {
	it("counts every gateway and service decision exactly: allowed + rejected = requests per key", async () => {
		const t = await createTenant("limited");
		await setLimits(t.tenantId, [
			{
				name: "whoami-two",
				scope: "api_key",
				algorithm: "fixed_window",
				limit: 2,
				window_seconds: 3600,
				path_prefix: "/api/v1/whoami",
			},
		]);
		const statuses: number[] = [];
		for (let i = 0; i < 5; i++) statuses.push((await call("GET", "/api/v1/whoami", { token: t.apiKey })).status);
		expect(statuses).toEqual([200, 200, 429, 429, 429]);
		// The service: 3 per hour for "login", checked 4 times for alice and once for bob.
		const rule = { algorithm: "fixed_window", limit: 3, window_seconds: 3600 };
		expect((await call("PUT", "/api/v1/ratelimit/rules/login", { token: t.apiKey, body: rule })).status).toBe(200);
		const answers: unknown[] = [];
		for (const key of ["alice", "alice", "alice", "alice", "bob"]) {
			const res = await call("POST", "/api/v1/ratelimit/check", { token: t.apiKey, body: { key, resource: "login" } });
			answers.push((await json(res)).allowed);
		}
		expect(answers).toEqual([true, true, true, false, true]);

		await expect
			.poll(() => recorded(t.tenantId), { timeout: 5000 })
			.toEqual([
				{ resource: "gateway:whoami-two", limit_key: expect.stringMatching(/^api_key:/), allowed: 2, rejected: 3 },
				{ resource: "login", limit_key: "alice", allowed: 3, rejected: 1 },
				{ resource: "login", limit_key: "bob", allowed: 1, rejected: 0 },
			]);
	});

	it("reports per key over a date range: totals, rejection rate and peak minute, this tenant's only", async () => {
		const t = await createTenant("reporting");
		const other = await createTenant("other");
		const d1 = pastDay(3);
		const d2 = pastDay(2);
		await seedMinute(t.tenantId, d1.start + 5 * MINUTE, "login", "alice", 10, 0);
		await seedMinute(t.tenantId, d1.start + 6 * MINUTE, "login", "alice", 4, 6);
		await seedMinute(t.tenantId, d2.start + 7 * MINUTE, "login", "alice", 30, 20);
		await seedMinute(t.tenantId, d2.start + 7 * MINUTE, "login", "bob", 5, 0);
		await seedMinute(t.tenantId, d2.start + 8 * MINUTE, "gateway:tenant-burst", "tenant:x", 7, 0);
		await seedMinute(t.tenantId, pastDay(5).start, "login", "alice", 1000, 1000); // outside the range
		await seedMinute(other.tenantId, d1.start, "login", "alice", 99, 99); // another tenant's

		const res = await postReport(t.apiKey, { type: "ratelimit_decisions", params: { from: d1.date, to: d2.date } });
		expect(res.status, await res.clone().text()).toBe(202);
		const id = String((await json(res)).report_id);
		expect(await waitForReport(t.apiKey, id)).toMatchObject({ chunks_total: 2, chunks_done: 2, progress: 1 });
		const rows = rowsOf(await json(await resultOf(t.apiKey, id, "json")));
		expect(rows).toEqual([
			{
				resource: "login",
				key: "alice",
				requests: 70,
				allowed: 44,
				rejected: 26,
				rejection_rate: 0.3714,
				peak_minute: new Date(d2.start + 7 * MINUTE).toISOString(),
				peak_minute_requests: 50,
				peak_minute_rejected: 20,
			},
			expect.objectContaining({ resource: "gateway:tenant-burst", key: "tenant:x", requests: 7, rejected: 0 }),
			expect.objectContaining({ resource: "login", key: "bob", requests: 5, rejection_rate: 0 }),
		]);
		const csv = (await (await resultOf(t.apiKey, id, "csv")).text()).split("\r\n");
		expect(csv[0]).toBe(
			"resource,key,requests,allowed,rejected,rejection_rate,peak_minute,peak_minute_requests,peak_minute_rejected",
		);

		// Only these resources; another tenant cannot read the report.
		const filtered = await postReport(t.apiKey, {
			type: "ratelimit_decisions",
			params: { from: d1.date, to: d2.date, resources: ["gateway:tenant-burst"] },
		});
		const fid = String((await json(filtered)).report_id);
		await waitForReport(t.apiKey, fid);
		expect(rowsOf(await json(await resultOf(t.apiKey, fid, "json"))).map((r) => r.key)).toEqual(["tenant:x"]);
		expect((await call("GET", `/api/v1/reports/${id}`, { token: other.apiKey })).status).toBe(404);
		expect((await resultOf(other.apiKey, id, "json")).status).toBe(404);
	});

	it("rejects invalid params with 400 and the fields", async () => {
		const { apiKey } = await createTenant();
		const day = pastDay(1).date;
		for (const params of [
			{ to: day },
			{ from: day, to: pastDay(3).date },
			{ from: pastDay(40).date, to: day },
			{ from: day, to: day, resources: [] },
			{ from: day, to: day, truck_ids: ["t1"] },
			{ from: "yesterday", to: day },
		]) {
			const res = await postReport(apiKey, { type: "ratelimit_decisions", params });
			expect(res.status, JSON.stringify(params)).toBe(400);
			expect(await json(res)).toMatchObject({ error: { code: "validation_failed" } });
		}
	});
});

describe("rate-limit decision counting", () => {
	it("keeps totals exact past the pending cap by counting new keys under (other)", async () => {
		const { tenantId } = await createTenant("many-keys");
		const now = Date.now();
		for (let i = 0; i < MAX_PENDING + 50; i++) recordServiceDecision(tenantId, "search", `k${i}`, i % 2 === 0, now);
		await flushDecisions(env.DB, now);
		const row = await env.DB.prepare(
			`SELECT COUNT(*) AS keys, SUM(allowed) AS allowed, SUM(rejected) AS rejected,
			 SUM(CASE WHEN limit_key = ? THEN allowed + rejected ELSE 0 END) AS other
			 FROM ratelimit_decisions WHERE tenant_id = ?`,
		)
			.bind(OVERFLOW_KEY, tenantId)
			.first<{ keys: number; allowed: number; rejected: number; other: number }>();
		expect(row?.allowed).toBe((MAX_PENDING + 50) / 2);
		expect(row?.rejected).toBe((MAX_PENDING + 50) / 2);
		expect(row?.keys).toBeLessThanOrEqual(MAX_PENDING + 1);
		expect(row?.other).toBeGreaterThanOrEqual(50);
	});
});
