import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openReport } from "../../../src/reports/service";
import type { ReportMessage } from "../../../src/reports/service";
import { runReportStep } from "../../../src/reports/runner";
import { POINTS_PAGE } from "../../../src/reports/steps";
import { createTenant, json } from "../helpers";
import { pastDay, postReport, resultOf, seedJobs, seedTruck, waitForReport } from "./reports-helpers";

async function chunkSteps(reportId: string): Promise<{ chunk_index: number; done: number; steps: number }[]> {
	const { results } = await env.DB.prepare(
		"SELECT chunk_index, done, steps FROM report_chunks WHERE report_id = ? ORDER BY chunk_index",
	)
		.bind(reportId)
		.all<{ chunk_index: number; done: number; steps: number }>();
	return results;
}

describe("report checkpoints", () => {
	it("resumes a crashed step at the unfinished chunk without recomputing finished ones", async () => {
		const { tenantId } = await createTenant();
		const days = [pastDay(6), pastDay(5), pastDay(4)];
		// Day 1 holds more points than one page, so with a budget of one query per step it takes several steps.
		for (const [i, d] of days.entries()) {
			await seedTruck(tenantId, "t1", d.start, i === 1 ? POINTS_PAGE + 500 : 30, i === 1 ? 20_000 : 60_000);
		}
		const principal = { tenantId, tenantName: "acme", apiKeyId: "k", routeLimits: null };
		const params = { from: days[0]?.date ?? "", to: days[2]?.date ?? "" };
		const { report } = await openReport(env, principal, "truck_distance", params, Date.now());

		const started: number[] = [];
		const sent: ReportMessage[] = [];
		let crashes = 0;
		const hooks = {
			beforeChunk: (index: number) => {
				started.push(index);
				if (index === 1 && crashes === 0 && started.filter((i) => i === 1).length === 2) {
					crashes += 1;
					throw new Error("consumer crashed");
				}
			},
			enqueue: async (m: ReportMessage) => {
				sent.push(m);
			},
		};
		let message: ReportMessage = { report_id: report.id, step: 0 };
		const run = () => runReportStep(env, message, hooks, 2);
		// Steps of two queries each until the crash, the second time chunk 1 is worked on.
		for (;;) {
			const outcome = await run().catch((err: unknown) => err);
			if (outcome === "continued") {
				message = sent.at(-1) ?? message;
				continue;
			}
			expect(outcome).toBeInstanceOf(Error);
			break;
		}
		const chunk0Steps = started.filter((i) => i === 0).length;
		const atCrash = await chunkSteps(report.id);
		expect(atCrash[0]).toMatchObject({ done: 1 });
		expect(atCrash[1]).toMatchObject({ done: 0, steps: 1 });
		expect(atCrash[2]).toMatchObject({ done: 0, steps: 0 });
		// The redelivered message resumes chunk 1 from its cursor; chunk 0 is never read again.
		let outcome = await run();
		while (outcome === "continued") {
			message = sent.at(-1) ?? message;
			outcome = await run();
		}
		expect(outcome).toBe("completed");
		expect(crashes).toBe(1);
		expect(started.filter((i) => i === 0)).toHaveLength(chunk0Steps);
		expect(started.filter((i) => i === 1).length).toBeGreaterThanOrEqual(3);
		const after = await chunkSteps(report.id);
		expect(after.every((c) => c.done === 1)).toBe(true);
		expect(after[0]?.steps).toBe(atCrash[0]?.steps);

		// A redelivered old message does nothing.
		expect(await runReportStep(env, { report_id: report.id, step: 1 }, hooks)).toBe("finished");

		const result = await env.REPORTS.get(`${tenantId}/${report.id}.json`);
		const body: { rows: { points: number; distance_km: number }[] } = await (result ?? new Response("{}")).json();
		expect(body.rows.map((r) => r.points)).toEqual([30, POINTS_PAGE + 500, 30]);
		// The page boundary in chunk 1 joins up: one continuous drive, no segment lost or doubled.
		expect(body.rows[1]?.distance_km).toBeCloseTo((POINTS_PAGE + 499) * 1.112, -1);
	});

	it("lets a duplicate step message run once only", async () => {
		const { tenantId } = await createTenant();
		const day = pastDay(7);
		await seedTruck(tenantId, "t1", day.start, 10);
		const principal = { tenantId, tenantName: "acme", apiKeyId: "k", routeLimits: null };
		const { report } = await openReport(env, principal, "truck_distance", { from: day.date, to: day.date }, Date.now());
		const sent: ReportMessage[] = [];
		const hooks = { enqueue: async (m: ReportMessage) => void sent.push(m) };
		const message = { report_id: report.id, step: 0 };
		const outcomes = await Promise.all([runReportStep(env, message, hooks), runReportStep(env, message, hooks)]);
		expect(outcomes.sort()).toEqual(["continued", "stale"]);
		expect(sent).toEqual([{ report_id: report.id, step: 1 }]);
	});
});

describe("report lanes", () => {
	it("finishes a short report while a long one is still running", async () => {
		const { tenantId, apiKey } = await createTenant();
		// A long report: 60 daily chunks, each its own step on the long lane.
		for (let d = 1; d <= 60; d++) await seedTruck(tenantId, `t${d % 3}`, pastDay(d).start, 50);
		await seedJobs(tenantId, "email", 20, pastDay(1).start + 1000, 500, 200);
		const long = await postReport(apiKey, {
			type: "truck_distance",
			params: { from: pastDay(60).date, to: pastDay(1).date },
		});
		expect(long.status).toBe(202);
		const longId = String((await json(long)).report_id);
		const short = await postReport(apiKey, {
			type: "job_latency",
			params: { from: pastDay(1).date, to: pastDay(1).date },
		});
		const shortId = String((await json(short)).report_id);

		await waitForReport(apiKey, shortId);
		const longNow = await env.DB.prepare("SELECT status, chunks_done FROM reports WHERE id = ?")
			.bind(longId)
			.first<{ status: string; chunks_done: number }>();
		expect(longNow?.status).not.toBe("completed");
		expect(longNow?.chunks_done).toBeLessThan(60);

		const rows: { rows: Record<string, unknown>[] } = await (await resultOf(apiKey, shortId, "json")).json();
		expect(rows.rows).toHaveLength(1);
		expect(rows.rows[0]).toMatchObject({ type: "email", completed: 20, dead: 0 });
		expect(Math.abs(Number(rows.rows[0]?.latency_p50_ms) - 500)).toBeLessThan(6);
		expect(Math.abs(Number(rows.rows[0]?.run_p99_ms) - 200)).toBeLessThan(3);

		const longDone = await waitForReport(apiKey, longId, "completed", 60_000);
		expect(longDone).toMatchObject({ chunks_done: 60, progress: 1, result: { rows: 60 } });
	}, 90_000);
});

describe("report identity across buckets", () => {
	it("returns the caller's unfinished report after its bucket ended, and a new one for another caller", async () => {
		const { tenantId } = await createTenant();
		const day = pastDay(3);
		const params = { from: day.date, to: day.date };
		const caller = { tenantId, tenantName: "acme", apiKeyId: "k1", routeLimits: null };
		const now = Date.now();
		const first = await openReport(env, caller, "truck_distance", params, now);
		expect(first.created).toBe(true);
		const later = await openReport(env, caller, "truck_distance", params, now + 3_600_000);
		expect(later).toMatchObject({ created: false, cached: false });
		expect(later.report.id).toBe(first.report.id);
		const other = await openReport(env, { ...caller, apiKeyId: "k2" }, "truck_distance", params, now);
		expect(other.created).toBe(true);
		expect(other.report.id).not.toBe(first.report.id);
	});
});
