import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobInsert } from "../../../src/jobs/batches-db";
import { insertJobsStatements } from "../../../src/jobs/batches-db";
import { InvocationBudget, SUBREQUEST_HEADROOM } from "../../../src/jobs/budget";
import type { JobHandler } from "../../../src/jobs/handlers/types";
import { runReadyJobs } from "../../../src/jobs/runner";
import { call, createTenant, sleep } from "../helpers";
import { post } from "./jobs-helpers";

/** Jobs written straight to D1 with no run token, so only the runs a test makes pick them up. */
async function insertJobs(tenantId: string, type: string, payloads: unknown[], timeoutSeconds = 30): Promise<string[]> {
	const now = Date.now();
	const jobs: JobInsert[] = payloads.map((payload) => ({
		id: `job_${crypto.randomUUID().replaceAll("-", "")}`,
		type,
		runner: "queue",
		status: "queued",
		priority: "medium",
		payload: JSON.stringify(payload),
		max_retries: 3,
		timeout_seconds: timeoutSeconds,
		dedupe_key: null,
		ready_at: now,
		pending_deps: 0,
		error: null,
		completed_at: null,
	}));
	await env.DB.batch(insertJobsStatements(env.DB, tenantId, jobs, now));
	return jobs.map((j) => j.id);
}

async function rows(ids: string[]): Promise<Map<string, { status: string; attempts: number }>> {
	const { results } = await env.DB.prepare(
		"SELECT id, status, attempts FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
	)
		.bind(JSON.stringify(ids))
		.all<{ id: string; status: string; attempts: number }>();
	return new Map(results.map((r) => [r.id, { status: r.status, attempts: r.attempts }]));
}

describe("a round killed midway", () => {
	it("has written the outcomes of the jobs that finished, so redelivered tokens run none of them again", async () => {
		const { tenantId } = await createTenant();
		const runs = new Map<string, number>();
		let unhang = () => undefined as void;
		const hang = new Promise<void>((resolve) => (unhang = resolve));
		const handler: JobHandler = {
			async run(payload, ctx) {
				runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
				// The hung job ignores its abort signal, as a stuck handler would (its first attempt).
				if (payload === "hang" && ctx.attempt === 1) await hang;
				else await sleep(Number(payload));
				return "ok";
			},
		};
		const ids = await insertJobs(tenantId, "noop", [10, 50, 100, 200, "hang"]);
		const hung = ids[4] ?? "";
		const finished = ids.slice(0, 4);
		const killed = runReadyJobs(env, tenantId, 5, "queue:killed", { handlers: () => handler, flushIntervalMs: 50 });
		// The invocation dies here: its promise is abandoned with the hung job still running.
		await Promise.race([killed, sleep(1_000)]);
		const afterKill = await rows(ids);
		for (const id of finished) expect(afterKill.get(id)).toEqual({ status: "completed", attempts: 1 });
		expect(afterKill.get(hung)).toEqual({ status: "processing", attempts: 1 });

		// Queues redeliver the batch's tokens (never acked) to a new invocation, after the hung job's
		// claim expired: the claim takes it back (attempt counted) and runs it; nothing else runs.
		await env.DB.prepare("UPDATE jobs SET claim_expires_at = ? WHERE id = ?")
			.bind(Date.now() - 1, hung)
			.run();
		unhang();
		const again = await runReadyJobs(env, tenantId, 5, "queue:redelivered", { handlers: () => handler });
		expect(again.claimed).toBe(1);
		for (const id of finished) expect(runs.get(id)).toBe(1);
		expect(runs.get(hung)).toBe(2);
		const afterRedelivery = await rows(ids);
		for (const id of finished) expect(afterRedelivery.get(id)).toEqual({ status: "completed", attempts: 1 });
		expect(afterRedelivery.get(hung)).toEqual({ status: "completed", attempts: 2 });
		// The dead invocation's late write for the hung job is refused (compare-and-set on its version).
		await killed;
		expect((await rows([hung])).get(hung)).toEqual({ status: "completed", attempts: 2 });
	});
});

describe("an invocation's limits", () => {
	it("runs at most six jobs of a fetching type at once", async () => {
		const { tenantId } = await createTenant();
		let inFlight = 0;
		let peak = 0;
		const fetching: JobHandler = {
			async run() {
				inFlight++;
				peak = Math.max(peak, inFlight);
				await sleep(30);
				inFlight--;
				return null;
			},
		};
		await insertJobs(
			tenantId,
			"http",
			Array.from({ length: 20 }, () => null),
		);
		const summary = await runReadyJobs(env, tenantId, 20, "queue:test", { handlers: () => fetching });
		expect(summary).toEqual({ claimed: 20, leftover: 0, saturated: false });
		expect(peak).toBe(6);
	});

	it("hands back, uncounted, the jobs its subrequest budget cannot cover, and passes their units on", async () => {
		const { tenantId } = await createTenant();
		const ran: string[] = [];
		const fetching: JobHandler = { run: async (_p, ctx) => void ran.push(ctx.jobId) };
		const ids = await insertJobs(
			tenantId,
			"http",
			Array.from({ length: 20 }, () => null),
		);
		// 60 to spend: the claim (1) and the round's two outcome groups (12) leave 47, 11 jobs at 4 each.
		const budget = new InvocationBudget({ startedAt: Date.now(), subrequests: SUBREQUEST_HEADROOM + 60 });
		const summary = await runReadyJobs(env, tenantId, 20, "queue:test", { handlers: () => fetching, budget });
		expect(summary).toEqual({ claimed: 20, leftover: 0, saturated: false });
		expect(ran).toHaveLength(11);
		const after = [...(await rows(ids)).values()];
		expect(after.filter((r) => r.status === "completed")).toHaveLength(11);
		expect(after.filter((r) => r.status === "queued" && r.attempts === 0)).toHaveLength(9);
	});

	it("starts no round that could not end within the invocation's wall time", async () => {
		const { tenantId } = await createTenant();
		await insertJobs(tenantId, "noop", [1, 2, 3]);
		const budget = new InvocationBudget({ startedAt: Date.now() - 10 * 60_000 });
		expect(await runReadyJobs(env, tenantId, 3, "queue:test", { budget })).toEqual({
			claimed: 0,
			leftover: 3,
			saturated: false,
		});
	});

	it("caps a built-in type's timeout at 300 s with a 400, and lets external types keep a day", async () => {
		const { apiKey } = await createTenant();
		const tooLong = await post(apiKey, "/jobs", { type: "noop", timeout_seconds: 301 });
		expect(tooLong.status).toBe(400);
		expect(await tooLong.json()).toMatchObject({
			error: { code: "timeout_too_long", details: { max_timeout_seconds: 300, timeout_seconds: 301 } },
		});
		expect((await post(apiKey, "/jobs", { type: "noop", timeout_seconds: 300 })).status).toBe(202);
		const declared = await call("PUT", "/api/v1/job-types/render", { token: apiKey, body: { mode: "external" } });
		expect(declared.status).toBe(200);
		expect((await post(apiKey, "/jobs", { type: "render", timeout_seconds: 86_400 })).status).toBe(202);
		expect((await post(apiKey, "/jobs", { type: "render", timeout_seconds: 86_401 })).status).toBe(400);
	});
});
