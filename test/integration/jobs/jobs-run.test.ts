import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { call, createTenant, json, sleep } from "../helpers";
import { enqueue, getJob, interceptOutbound, post, waitForJob } from "./jobs-helpers";

afterEach(() => vi.restoreAllMocks());

describe("the http job type", () => {
	it("delivers the body with a signature the receiver can verify", async () => {
		const seen = interceptOutbound(async () => new Response("thanks", { status: 200 }));
		const { apiKey, signingSecret } = await createTenant();
		const id = await enqueue(apiKey, {
			type: "http",
			payload: {
				url: "https://receiver.example/hook",
				method: "POST",
				headers: { "X-Custom": "1" },
				body: { hello: "world" },
			},
		});
		const job = await waitForJob(apiKey, id, (j) => j.status === "completed");
		expect(job.result).toMatchObject({ status: 200, body: "thanks" });
		const req = seen[0];
		if (!req) throw new Error("no delivery");
		const body = req.body;
		expect(JSON.parse(body)).toEqual({ hello: "world" });
		expect(req.headers.get("X-Custom")).toBe("1");
		// Standard Webhooks (issue 10): the tenant's own secret, verified by a third-party library.
		const headers = Object.fromEntries(req.headers);
		expect(new Webhook(signingSecret).verify(body, headers)).toEqual({ hello: "world" });
		expect(() => new Webhook(`whsec_${btoa("w".repeat(32))}`).verify(body, headers)).toThrow();
		expect(() => new Webhook(signingSecret).verify(`${body} `, headers)).toThrow();
	});

	it("treats a non-2xx as a failure, retries, then leaves the job dead with its last error", async () => {
		const seen = interceptOutbound(async () => new Response("nope", { status: 503 }));
		const { apiKey } = await createTenant();
		const id = await enqueue(apiKey, {
			type: "http",
			max_retries: 1,
			payload: { url: "https://receiver.example/down", body: "x" },
		});
		// The first retry waits up to 1 s of jittered backoff.
		const job = await waitForJob(apiKey, id, (j) => j.status === "dead", 20_000);
		expect(job.attempts).toBe(2);
		expect(String(job.error)).toContain("HTTP 503");
		expect(seen.length).toBe(2);
		const logs = await json(await call("GET", `/api/v1/jobs/${id}/logs`, { token: apiKey }));
		expect((logs.logs as unknown[]).length).toBe(2);
	});

	it("caps concurrency per type across the platform", async () => {
		let inFlight = 0;
		let peak = 0;
		interceptOutbound(async () => {
			inFlight++;
			peak = Math.max(peak, inFlight);
			await sleep(150);
			inFlight--;
			return new Response("ok");
		});
		const { apiKey } = await createTenant();
		expect(
			(await call("PUT", "/api/v1/job-types/http", { token: apiKey, body: { mode: "builtin", max_concurrency: 2 } }))
				.status,
		).toBe(200);
		const res = await post(apiKey, "/jobs/bulk", {
			jobs: Array.from({ length: 8 }, (_, i) => ({
				type: "http",
				payload: { url: `https://receiver.example/${i}`, body: "x" },
			})),
		});
		const { jobs } = (await json(res)) as { jobs: { job_id: string }[] };
		for (const j of jobs) await waitForJob(apiKey, j.job_id, (x) => x.status === "completed", 30_000);
		expect(peak).toBe(2);
		for (const j of jobs) expect((await getJob(apiKey, j.job_id)).attempts).toBe(1);
	});
});

describe("dependencies", () => {
	it("queues a fan-in job only after all its dependencies complete", async () => {
		const { apiKey } = await createTenant();
		await call("PUT", "/api/v1/job-types/step", { token: apiKey, body: { mode: "external" } });
		const a = await enqueue(apiKey, { type: "step" });
		const b = await enqueue(apiKey, { type: "step" });
		const joined = await enqueue(apiKey, { type: "noop", depends_on: [a, b] });
		expect((await getJob(apiKey, joined)).status).toBe("waiting");
		for (const id of [a, b]) {
			const claimed = await json(await post(apiKey, "/jobs/claim", { worker_id: "w", types: ["step"] }));
			await post(apiKey, `/jobs/${String(claimed.job_id)}/complete`, { worker_id: "w", result: null });
			if (id === a) expect((await getJob(apiKey, joined)).status).toBe("waiting");
		}
		await waitForJob(apiKey, joined, (j) => j.status === "completed");
	});

	it("cancels dependents, transitively, with a reason when a dependency ends dead", async () => {
		const { apiKey } = await createTenant();
		await call("PUT", "/api/v1/job-types/step", { token: apiKey, body: { mode: "external" } });
		const a = await enqueue(apiKey, { type: "step" });
		const b = await enqueue(apiKey, { type: "noop", depends_on: [a] });
		const c = await enqueue(apiKey, { type: "noop", depends_on: [b] });
		await post(apiKey, "/jobs/claim", { worker_id: "w", types: ["step"] });
		await post(apiKey, `/jobs/${a}/fail`, { worker_id: "w", error: "broken", retry: false });
		expect(await getJob(apiKey, b)).toMatchObject({ status: "cancelled", error: `dependency ${a} ended dead` });
		expect((await getJob(apiKey, c)).status).toBe("cancelled");
		const late = await json(await post(apiKey, "/jobs", { type: "noop", depends_on: [a] }));
		expect(late.status).toBe("cancelled");
	});
});

describe("schedules", () => {
	it("creates, lists, fires once per occurrence from its alarm, pauses and deletes", async () => {
		const { apiKey } = await createTenant();
		const bad = await post(apiKey, "/schedules", {
			cron: "not a cron",
			timezone: "Mars/Olympus",
			job: { type: "noop" },
		});
		expect(bad.status).toBe(400);
		// Midnight on New Year's Day in Berlin (UTC+1 in winter): no real alarm fires during the test.
		const res = await post(apiKey, "/schedules", {
			cron: "0 0 1 1 *",
			timezone: "Europe/Berlin",
			job: { type: "noop", payload: { report: 1 } },
		});
		expect(res.status).toBe(201);
		const schedule = await json(res);
		const id = String(schedule.schedule_id);
		const year = new Date().getUTCFullYear();
		const newYear =
			Date.UTC(year, 11, 31, 23) > Date.now() ? Date.UTC(year, 11, 31, 23) : Date.UTC(year + 1, 11, 31, 23);
		expect(Date.parse(String(schedule.next_run_at))).toBe(newYear);
		const stub = env.JOB_SCHEDULE.getByName(id);
		// Pretend the occurrence is due: move the stored next occurrence into the past and fire the
		// alarm. The alarms are set an hour ahead: workerd fires a due alarm by itself, which would race
		// runDurableObjectAlarm; the handler fires the stored occurrence whenever it runs.
		// The second run is handed the same occurrence again, as a re-fired alarm would be: its dedupe
		// key keeps it to one job.
		const { runInDurableObject } = await import("cloudflare:test");
		const due = Date.now() - 1_000;
		for (let run = 0; run < 2; run++) {
			await runInDurableObject(stub, async (_obj, state) => {
				await state.storage.put("next", due);
				await state.storage.setAlarm(Date.now() + 3_600_000);
			});
			expect(await runDurableObjectAlarm(stub)).toBe(true);
		}
		const list = await json(await call("GET", "/api/v1/jobs?type=noop", { token: apiKey }));
		expect((list.jobs as unknown[]).length).toBe(1);
		const paused = await json(await post(apiKey, `/schedules/${id}/pause`, {}));
		expect(paused).toMatchObject({ paused: true, next_run_at: null });
		expect(
			((await json(await call("GET", "/api/v1/schedules", { token: apiKey }))).schedules as unknown[]).length,
		).toBe(1);
		expect((await call("DELETE", `/api/v1/schedules/${id}`, { token: apiKey })).status).toBe(200);
		expect((await call("GET", `/api/v1/schedules/${id}`, { token: apiKey })).status).toBe(404);
	});
});

describe("metrics and events", () => {
	it("reports depth, processed counts and processing-time percentiles per type and priority", async () => {
		const { apiKey } = await createTenant();
		const ids = (
			(
				await json(
					await post(apiKey, "/jobs/bulk", {
						jobs: Array.from({ length: 10 }, () => ({ type: "noop", priority: "high" })),
					}),
				)
			).jobs as { job_id: string }[]
		).map((j) => j.job_id);
		await post(apiKey, "/jobs", { type: "noop", priority: "low", delay_seconds: 3600 });
		for (const id of ids) await waitForJob(apiKey, id, (j) => j.status === "completed");
		const m = await json(await call("GET", "/api/v1/jobs/metrics", { token: apiKey }));
		const rows = m.metrics as Record<string, unknown>[];
		expect(rows.find((r) => r.priority === "high")).toMatchObject({
			type: "noop",
			processed: 10,
			failed: 0,
			retry_rate: 0,
			processing_ms: { p50: expect.any(Number), p99: expect.any(Number) },
		});
		expect(rows.find((r) => r.priority === "low")).toMatchObject({ depth: { scheduled: 1 }, processed: 0 });
	});

	it("streams status changes as server-sent events until the job ends", async () => {
		const { apiKey } = await createTenant();
		const id = await enqueue(apiKey, { type: "noop" });
		const res = await call("GET", `/api/v1/jobs/${id}/events`, { token: apiKey });
		expect(res.headers.get("Content-Type")).toContain("text/event-stream");
		const text = await res.text();
		expect(text).toContain("event: status");
		expect(text).toContain('"status":"completed"');
	});
});
