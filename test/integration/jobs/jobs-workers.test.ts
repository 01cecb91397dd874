import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepJobs } from "../../../src/jobs/sweeper";
import { call, createTenant, json, sleep } from "../helpers";
import { enqueue, getJob, post, waitForJob } from "./jobs-helpers";

async function declareExternal(token: string, type: string, limits: Record<string, unknown> = {}): Promise<void> {
	const res = await call("PUT", `/api/v1/job-types/${type}`, { token, body: { mode: "external", ...limits } });
	expect(res.status).toBe(200);
}

async function claim(token: string, types: string[], worker = "w1"): Promise<Response> {
	return post(token, "/jobs/claim", { worker_id: worker, types });
}

describe("pull API for external workers", () => {
	it("claims, heartbeats with progress and completes a job", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "transcode");
		const id = await enqueue(apiKey, { type: "transcode", payload: { src: "a.mp4" }, timeout_seconds: 60 });
		const claimed = await json(await claim(apiKey, ["transcode"]));
		expect(claimed).toMatchObject({
			job_id: id,
			type: "transcode",
			payload: { src: "a.mp4" },
			timeout_seconds: 60,
			attempt: 1,
		});
		expect((await claim(apiKey, ["transcode"])).status).toBe(204);
		const beat = await json(await post(apiKey, `/jobs/${id}/heartbeat`, { worker_id: "w1", progress: 0.4 }));
		expect(beat).toMatchObject({ cancelled: false });
		expect((await getJob(apiKey, id)).progress).toBe(0.4);
		expect((await post(apiKey, `/jobs/${id}/heartbeat`, { worker_id: "intruder" })).status).toBe(409);
		const done = await json(await post(apiKey, `/jobs/${id}/complete`, { worker_id: "w1", result: { out: "a.webm" } }));
		expect(done).toMatchObject({ status: "completed", result: { out: "a.webm" }, progress: 1 });
		expect((await post(apiKey, `/jobs/${id}/complete`, { worker_id: "w1", result: null })).status).toBe(409);
	});

	it("takes back a claim without heartbeat after its timeout, counting the attempt, then kills it after max_retries", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "render");
		const id = await enqueue(apiKey, { type: "render", timeout_seconds: 1, max_retries: 1 });
		await claim(apiKey, ["render"]);
		// Before the timeout the sweeper leaves the claim alone.
		await sweepJobs(env, { now: () => Date.now(), random: () => 0 });
		expect((await getJob(apiKey, id)).status).toBe("processing");
		await sleep(1_100);
		const first = await sweepJobs(env, { now: () => Date.now(), random: () => 0 });
		expect(first.expired).toBeGreaterThanOrEqual(1);
		const retried = await getJob(apiKey, id);
		expect(retried).toMatchObject({ status: "failed", attempts: 1 });
		expect(String(retried.error)).toContain("visibility timeout");
		expect((await post(apiKey, `/jobs/${id}/heartbeat`, { worker_id: "w1" })).status).toBe(409);
		const again = await json(await claim(apiKey, ["render"], "w2"));
		expect(again).toMatchObject({ job_id: id, attempt: 2 });
		await sleep(1_100);
		await sweepJobs(env, { now: () => Date.now(), random: () => 0 });
		expect(await getJob(apiKey, id)).toMatchObject({ status: "dead", attempts: 2 });
	});

	it("fails with retry: false straight to dead, and redrives a dead job with attempts reset", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "ocr");
		const id = await enqueue(apiKey, { type: "ocr", max_retries: 5 });
		await claim(apiKey, ["ocr"]);
		const dead = await json(
			await post(apiKey, `/jobs/${id}/fail`, { worker_id: "w1", error: "corrupt input", retry: false }),
		);
		expect(dead).toMatchObject({ status: "dead", error: "corrupt input", attempts: 1 });
		expect((await call("GET", "/api/v1/jobs?status=dead", { token: apiKey }).then(json)).jobs).toHaveLength(1);
		const redriven = await json(await post(apiKey, `/jobs/${id}/retry`, {}));
		expect(redriven).toMatchObject({ status: "queued", attempts: 0, error: null });
		expect((await post(apiKey, `/jobs/${id}/retry`, {})).status).toBe(409);
		expect(await json(await claim(apiKey, ["ocr"]))).toMatchObject({ job_id: id, attempt: 1 });
	});

	it("tells a worker at its heartbeat that its job was cancelled", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "long");
		const id = await enqueue(apiKey, { type: "long" });
		await claim(apiKey, ["long"]);
		const del = await call("DELETE", `/api/v1/jobs/${id}`, { token: apiKey });
		expect(del.status).toBe(202);
		expect(await json(del)).toMatchObject({ status: "processing", cancel_requested: true });
		expect(await json(await post(apiKey, `/jobs/${id}/heartbeat`, { worker_id: "w1" }))).toMatchObject({
			cancelled: true,
		});
		expect(await getJob(apiKey, id)).toMatchObject({ status: "cancelled" });
	});

	it("claims a backlog 5:3:1 by priority and still serves low", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "prio");
		for (const priority of ["low", "medium", "high"]) {
			await post(apiKey, "/jobs/bulk", { jobs: Array.from({ length: 20 }, () => ({ type: "prio", priority })) });
		}
		const order: string[] = [];
		for (let i = 0; i < 18; i++) order.push(String((await json(await claim(apiKey, ["prio"]))).priority));
		const count = (p: string) => order.filter((x) => x === p).length;
		expect([count("high"), count("medium"), count("low")]).toEqual([10, 6, 2]);
		expect(order.slice(0, 9).filter((p) => p === "low")).toHaveLength(1);
	});

	it("caps a type's claims at its max_concurrency, across workers, and frees a slot on completion", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "capped", { max_concurrency: 2 });
		await declareExternal(apiKey, "free");
		for (let i = 0; i < 4; i++) await enqueue(apiKey, { type: "capped" });
		const freeJob = await enqueue(apiKey, { type: "free" });
		const workers = ["w1", "w2", "w3", "w4"];
		const answers = await Promise.all(workers.map((w) => claim(apiKey, ["capped"], w)));
		expect(answers.map((res) => res.status).sort((a, b) => a - b)).toEqual([200, 200, 204, 204]);
		// A full type does not block the others in the same claim.
		expect(await json(await claim(apiKey, ["capped", "free"], "w5"))).toMatchObject({ job_id: freeJob });
		const winner = answers.findIndex((res) => res.status === 200);
		const first = await json(answers[winner] as Response);
		const done = await post(apiKey, `/jobs/${String(first.job_id)}/complete`, {
			worker_id: workers[winner],
			result: null,
		});
		expect(done.status).toBe(200);
		expect((await claim(apiKey, ["capped"], "w6")).status).toBe(200);
		expect((await claim(apiKey, ["capped"], "w7")).status).toBe(204);
	});

	it("rejects claims for types that are not external", async () => {
		const { apiKey } = await createTenant();
		expect((await claim(apiKey, ["noop"])).status).toBe(400);
		expect((await call("PUT", "/api/v1/job-types/noop", { token: apiKey, body: { mode: "external" } })).status).toBe(
			400,
		);
		expect(
			(await call("PUT", "/api/v1/job-types/x", { token: apiKey, body: { mode: "external", max_concurrency: 0 } }))
				.status,
		).toBe(400);
	});
});

describe("cancellation before running", () => {
	it("cancels a scheduled, a queued and a waiting job so they never run, and 409s a finished one", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "held");
		const scheduled = await enqueue(apiKey, { type: "noop", delay_seconds: 3600 });
		const queued = await enqueue(apiKey, { type: "held" });
		const waiting = await enqueue(apiKey, { type: "noop", depends_on: [queued] });
		expect((await getJob(apiKey, waiting)).status).toBe("waiting");
		for (const id of [scheduled, waiting, queued]) {
			const res = await call("DELETE", `/api/v1/jobs/${id}`, { token: apiKey });
			expect(res.status).toBe(200);
			expect(await json(res)).toMatchObject({ status: "cancelled" });
		}
		expect((await claim(apiKey, ["held"])).status).toBe(204);
		expect((await call("DELETE", `/api/v1/jobs/${queued}`, { token: apiKey })).status).toBe(409);
		const done = await enqueue(apiKey, { type: "noop" });
		await waitForJob(apiKey, done, (j) => j.status === "completed");
		expect((await call("DELETE", `/api/v1/jobs/${done}`, { token: apiKey })).status).toBe(409);
	});
});

describe("visibility timeout at claim time", () => {
	it("lets another worker claim a job as soon as its claim expired, counting attempts, without a sweep", async () => {
		const { apiKey } = await createTenant();
		await declareExternal(apiKey, "upload");
		const id = await enqueue(apiKey, { type: "upload", timeout_seconds: 1, max_retries: 1 });
		expect(await json(await claim(apiKey, ["upload"], "w1"))).toMatchObject({ job_id: id, attempt: 1 });
		// Still held: nobody else gets it before the timeout.
		expect((await claim(apiKey, ["upload"], "w2")).status).toBe(204);
		await sleep(1_100);
		expect(await json(await claim(apiKey, ["upload"], "w2"))).toMatchObject({ job_id: id, attempt: 2 });
		expect((await post(apiKey, `/jobs/${id}/heartbeat`, { worker_id: "w1" })).status).toBe(409);
		const logs = await json(await call("GET", `/api/v1/jobs/${id}/logs`, { token: apiKey }));
		expect(JSON.stringify(logs)).toContain("attempt 1 failed: visibility timeout");
		// Out of retries: the next expired claim leaves it dead, not claimable.
		await sleep(1_100);
		expect((await claim(apiKey, ["upload"], "w3")).status).toBe(204);
		expect(await getJob(apiKey, id)).toMatchObject({ status: "dead", attempts: 2 });
	});
});
