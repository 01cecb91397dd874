import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import { enqueue, getJob, post, waitForJob } from "./jobs-helpers";

describe("jobs API: enqueue and validation", () => {
	it("accepts a noop job with 202 and runs it to completion from the queue", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/jobs", { type: "noop", payload: { n: 1 } });
		expect(res.status).toBe(202);
		const body = await json(res);
		expect(body).toMatchObject({ status: "queued" });
		const job = await waitForJob(apiKey, String(body.job_id), (j) => j.status === "completed");
		expect(job).toMatchObject({
			type: "noop",
			priority: "medium",
			progress: 1,
			attempts: 1,
			max_retries: 3,
			result: { ok: true },
		});
		expect(job.started_at).not.toBeNull();
		expect(job.completed_at).not.toBeNull();
	});

	it("rejects an unknown type, an unknown priority, a payload over 128 KB and negative retries", async () => {
		const { apiKey } = await createTenant();
		const unknownType = await post(apiKey, "/jobs", { type: "transcode" });
		expect(unknownType.status).toBe(400);
		expect((await json(unknownType)).error).toMatchObject({ code: "unknown_job_type" });
		const badPriority = await post(apiKey, "/jobs", { type: "noop", priority: "urgent" });
		expect(badPriority.status).toBe(400);
		expect((await json(badPriority)).error).toMatchObject({ code: "validation_failed" });
		const big = await post(apiKey, "/jobs", { type: "noop", payload: "x".repeat(129 * 1024) });
		expect(big.status).toBe(400);
		expect(JSON.stringify(await json(big))).toContain("payload");
		const negative = await post(apiKey, "/jobs", { type: "noop", max_retries: -1 });
		expect(negative.status).toBe(400);
		const both = await post(apiKey, "/jobs", { type: "noop", delay_seconds: 5, run_at: "2030-01-01T00:00:00Z" });
		expect(both.status).toBe(400);
		const badDep = await post(apiKey, "/jobs", { type: "noop", depends_on: [`job_${"0".repeat(32)}`] });
		expect(badDep.status).toBe(400);
		expect((await json(badDep)).error).toMatchObject({ code: "unknown_dependency" });
	});

	it("enqueues up to 1,000 jobs in bulk and rejects 1,001", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/jobs/bulk", {
			jobs: Array.from({ length: 1000 }, (_, i) => ({ type: "noop", payload: { i } })),
		});
		expect(res.status).toBe(202);
		const { jobs } = (await json(res)) as { jobs: { job_id: string; status: string }[] };
		expect(jobs).toHaveLength(1000);
		expect(new Set(jobs.map((j) => j.job_id)).size).toBe(1000);
		const tooMany = await post(apiKey, "/jobs/bulk", { jobs: Array.from({ length: 1001 }, () => ({ type: "noop" })) });
		expect(tooMany.status).toBe(400);
		const last = jobs[999];
		if (!last) throw new Error("no jobs");
		await waitForJob(apiKey, last.job_id, (j) => j.status === "completed");
	});

	it("returns the live job for a repeated dedupe_key instead of creating another", async () => {
		const { apiKey } = await createTenant();
		const first = await json(
			await post(apiKey, "/jobs", { type: "noop", dedupe_key: "user-1:send:1700000000", delay_seconds: 3600 }),
		);
		const second = await json(await post(apiKey, "/jobs", { type: "noop", dedupe_key: "user-1:send:1700000000" }));
		expect(second.job_id).toBe(first.job_id);
		expect(second).toMatchObject({ deduplicated: true, status: "scheduled" });
		const bulk = (await json(
			await post(apiKey, "/jobs/bulk", {
				jobs: [
					{ type: "noop", dedupe_key: "k2", delay_seconds: 60 },
					{ type: "noop", dedupe_key: "k2" },
				],
			}),
		)) as { jobs: { job_id: string }[] };
		expect(bulk.jobs[0]?.job_id).toBe(bulk.jobs[1]?.job_id);
	});

	it("lists jobs by status and type with a cursor", async () => {
		const { apiKey } = await createTenant();
		await post(apiKey, "/jobs/bulk", {
			jobs: Array.from({ length: 5 }, () => ({ type: "noop", delay_seconds: 3600 })),
		});
		const page1 = await json(await call("GET", "/api/v1/jobs?status=scheduled&type=noop&limit=3", { token: apiKey }));
		expect((page1.jobs as unknown[]).length).toBe(3);
		expect(page1.next_cursor).toEqual(expect.any(String));
		const page2 = await json(
			await call("GET", `/api/v1/jobs?status=scheduled&limit=3&cursor=${String(page1.next_cursor)}`, { token: apiKey }),
		);
		expect((page2.jobs as unknown[]).length).toBe(2);
		expect(page2.next_cursor).toBeNull();
		const bad = await call("GET", "/api/v1/jobs?status=exploded", { token: apiKey });
		expect(bad.status).toBe(400);
	});

	it("keeps tenants apart: another tenant's job is 404 and absent from lists", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const id = await enqueue(a.apiKey, { type: "noop", delay_seconds: 3600 });
		expect((await call("GET", `/api/v1/jobs/${id}`, { token: b.apiKey })).status).toBe(404);
		expect((await call("DELETE", `/api/v1/jobs/${id}`, { token: b.apiKey })).status).toBe(404);
		const list = await json(await call("GET", "/api/v1/jobs", { token: b.apiKey }));
		expect(list.jobs).toEqual([]);
		expect((await getJob(a.apiKey, id)).status).toBe("scheduled");
	});
});
