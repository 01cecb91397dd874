import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleJobsBatch } from "../../../queues/jobs";
import type { JobInsert } from "../../../src/jobs/batches-db";
import { insertJobsStatements } from "../../../src/jobs/batches-db";
import { claimReady } from "../../../src/jobs/claims-db";
import { slotPositions } from "../../../src/jobs/priority";
import { MAX_BOUND_PARAMETERS } from "../../../src/platform/sql-db";
import { enqueueJobs } from "../../../src/jobs/enqueue";
import { runReadyJobs } from "../../../src/jobs/runner";
import type { FinishedAttempt } from "../../../src/jobs/transitions";
import { finishAttempts } from "../../../src/jobs/transitions";
import { call, createTenant } from "../helpers";
import { enqueue, waitForJob } from "./jobs-helpers";

afterEach(() => vi.restoreAllMocks());

type Counts = Record<string, number>;

/** Jobs written straight to D1 with no run token, so only the batches a test hands over run them. */
async function insertReady(tenantId: string, n: number, payload = "null", priority = "medium"): Promise<string[]> {
	const now = Date.now();
	const jobs: JobInsert[] = Array.from({ length: n }, () => ({
		id: `job_${crypto.randomUUID().replaceAll("-", "")}`,
		type: "noop",
		runner: "queue",
		status: "queued",
		priority,
		payload,
		max_retries: 3,
		timeout_seconds: 60,
		dedupe_key: null,
		ready_at: now,
		pending_deps: 0,
		error: null,
		completed_at: null,
	}));
	await env.DB.batch(insertJobsStatements(env.DB, tenantId, jobs, now));
	return jobs.map((j) => j.id);
}

async function statusCounts(tenantId: string): Promise<Counts> {
	const { results } = await env.DB.prepare("SELECT status, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY status")
		.bind(tenantId)
		.all<{ status: string; n: number }>();
	return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

function tokenBatch(prefix: string, bodies: unknown[]) {
	return createMessageBatch(
		"floodgate-jobs",
		bodies.map((body, i) => ({ id: `${prefix}${i}`, timestamp: new Date(), attempts: 1, body })),
	);
}

/** The real D1 binding, with every statement's bound parameters counted (D1 allows 100). */
function countingDb(db: D1Database, seen: number[]): D1Database {
	return new Proxy(db, {
		get(target, prop, receiver) {
			if (prop !== "prepare") {
				const value: unknown = Reflect.get(target, prop, receiver);
				return typeof value === "function" ? value.bind(target) : value;
			}
			return (sql: string) => {
				const stmt = target.prepare(sql);
				return new Proxy(stmt, {
					get(s, p) {
						if (p === "bind") return (...args: unknown[]) => (seen.push(args.length), s.bind(...args));
						const value: unknown = Reflect.get(s, p);
						return typeof value === "function" ? value.bind(s) : value;
					},
				});
			};
		},
	});
}

describe("run tokens that stand for many jobs", () => {
	it("claims no more jobs than the tokens' units, and later tokens take the rest", async () => {
		const { tenantId } = await createTenant();
		await insertReady(tenantId, 5);
		const first = tokenBatch("a", [{ tenant_id: tenantId, count: 2 }]);
		const ctx = createExecutionContext();
		await handleJobsBatch(first, env, ctx);
		expect((await getQueueResult(first, ctx)).explicitAcks).toEqual(["a0"]);
		expect(await statusCounts(tenantId)).toEqual({ completed: 2, queued: 3 });
		// Surplus units (10 for 3 jobs) claim what is there and are acked, not re-sent.
		const second = tokenBatch("b", [{ tenant_id: tenantId, count: 10 }]);
		const ctx2 = createExecutionContext();
		await handleJobsBatch(second, env, ctx2);
		const result = await getQueueResult(second, ctx2);
		expect(result.explicitAcks).toEqual(["b0"]);
		expect(result.retryMessages).toEqual([]);
		expect(await statusCounts(tenantId)).toEqual({ completed: 5 });
	});

	it("never runs a job twice when consumers race with tokens of 100 units each", async () => {
		const { tenantId } = await createTenant();
		const ids = await insertReady(tenantId, 450);
		const racing = ["a", "b", "c", "d", "e"].map((p) => tokenBatch(p, [{ tenant_id: tenantId, count: 100 }]));
		await Promise.all(racing.map((b) => handleJobsBatch(b, env, createExecutionContext())));
		expect(await statusCounts(tenantId)).toEqual({ completed: 450 });
		const { results } = await env.DB.prepare(
			"SELECT attempts, version, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY attempts, version",
		)
			.bind(tenantId)
			.all();
		// One claim (attempts 1) and one completion per job: version 0 → 1 (claim) → 2 (completed).
		expect(results).toEqual([{ attempts: 1, version: 2, n: ids.length }]);
	});

	it("rejects a token with a count over 100 or below 1 as malformed, alone", async () => {
		const { tenantId } = await createTenant();
		await insertReady(tenantId, 1);
		const batch = tokenBatch("m", [
			{ tenant_id: tenantId, count: 101 },
			{ tenant_id: tenantId, count: 0 },
			{ tenant_id: tenantId, count: 1 },
		]);
		const ctx = createExecutionContext();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await handleJobsBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["m0", "m1", "m2"]);
		expect(await statusCounts(tenantId)).toEqual({ completed: 1 });
	});

	it("hands units it could not use in its rounds back as leftover", async () => {
		const { tenantId } = await createTenant();
		await insertReady(tenantId, 7);
		const summary = await runReadyJobs(env, tenantId, 7, "queue:test", { roundJobs: 2, rounds: 3 });
		expect(summary).toEqual({ claimed: 6, leftover: 1, saturated: false });
		expect(await statusCounts(tenantId)).toEqual({ completed: 6, queued: 1 });
		// Nothing ready: the units are surplus, not leftover.
		expect(await runReadyJobs(env, tenantId, 5, "queue:test")).toEqual({ claimed: 1, leftover: 0, saturated: false });
	});

	it("gives refused claims back uncounted in one go when a type is at its limit, and passes the units on", async () => {
		const { tenantId, apiKey } = await createTenant();
		expect(
			(await call("PUT", "/api/v1/job-types/noop", { token: apiKey, body: { mode: "builtin", max_concurrency: 2 } }))
				.status,
		).toBe(200);
		await insertReady(tenantId, 10);
		const summary = await runReadyJobs(env, tenantId, 6, "queue:test", { roundJobs: 4, rounds: 5 });
		// One round of 4: 2 admitted and run, 2 refused; the 2 units left are passed on, not spent
		// on claiming more jobs of the saturated type now.
		expect(summary).toEqual({ claimed: 4, leftover: 2, saturated: true });
		const { results } = await env.DB.prepare(
			"SELECT status, attempts, ready_at > ? AS later, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY status, attempts, later ORDER BY status, later",
		)
			.bind(Date.now(), tenantId)
			.all();
		expect(results).toEqual([
			{ status: "completed", attempts: 1, later: 0, n: 2 },
			{ status: "queued", attempts: 0, later: 0, n: 6 },
			{ status: "queued", attempts: 0, later: 1, n: 2 },
		]);
	});

	it("passes units on after 200 jobs of limited types, bounding an invocation's gate calls", async () => {
		const { tenantId, apiKey } = await createTenant();
		expect(
			(
				await call("PUT", "/api/v1/job-types/noop", {
					token: apiKey,
					body: { mode: "builtin", max_concurrency: 1_000 },
				})
			).status,
		).toBe(200);
		await insertReady(tenantId, 250);
		expect(await runReadyJobs(env, tenantId, 250, "queue:test")).toEqual({
			claimed: 200,
			leftover: 50,
			saturated: false,
		});
		expect(await statusCounts(tenantId)).toEqual({ completed: 200, queued: 50 });
	});

	it("caps the payload characters one claim takes, but always takes the oldest job", async () => {
		const { tenantId } = await createTenant();
		const big = JSON.stringify({ blob: "x".repeat(60_000) });
		await insertReady(tenantId, 3, big);
		const one = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			slots: slotPositions(0),
			limit: 3,
			now: Date.now(),
			claimedBy: "t",
			budget: 100_000,
		});
		expect(one.jobs.length).toBe(1);
		const tiny = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			slots: slotPositions(0),
			limit: 3,
			now: Date.now(),
			claimedBy: "t",
			budget: 1,
		});
		expect(tiny.jobs.length).toBe(1);
		const rest = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			slots: slotPositions(0),
			limit: 3,
			now: Date.now(),
			claimedBy: "t",
			budget: 200_000,
		});
		expect(rest.jobs.length).toBe(1);
		expect(rest.jobs[0]?.payload).toBe(big);
	});
});

describe("weighted claims in one statement", () => {
	const claimOf = async (tenantId: string, limit: number, offset = 0) => {
		const { jobs } = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			limit,
			now: Date.now(),
			claimedBy: "t",
			slots: slotPositions(offset),
		});
		return {
			high: jobs.filter((j) => j.priority === "high").length,
			medium: jobs.filter((j) => j.priority === "medium").length,
			low: jobs.filter((j) => j.priority === "low").length,
		};
	};

	it("takes 5 : 3 : 1 from a backlog of all three priorities, whatever the offset", async () => {
		const { tenantId } = await createTenant();
		for (const p of ["high", "medium", "low"]) await insertReady(tenantId, 100, "null", p);
		expect(await claimOf(tenantId, 90, 0)).toEqual({ high: 50, medium: 30, low: 10 });
		expect(await claimOf(tenantId, 9, 4)).toEqual({ high: 5, medium: 3, low: 1 });
		// One claim from slot 3 of the pattern is low's turn: low is never starved by a backlog above it.
		expect(await claimOf(tenantId, 1, 3)).toEqual({ high: 0, medium: 0, low: 1 });
	});

	it("gives a priority's share to the others when it has too few ready jobs", async () => {
		const { tenantId } = await createTenant();
		await insertReady(tenantId, 4, "null", "high");
		await insertReady(tenantId, 100, "null", "medium");
		await insertReady(tenantId, 100, "null", "low");
		const got = await claimOf(tenantId, 90);
		expect(got.high).toBe(4);
		expect(got.medium + got.low).toBe(86);
		expect(got.medium).toBeGreaterThan(got.low * 2);
		expect(await claimOf(tenantId, 500)).toEqual({ high: 0, medium: 100 - got.medium, low: 100 - got.low });
	});

	it("claims in the oldest-ready order within a priority", async () => {
		const { tenantId } = await createTenant();
		const ids = await insertReady(tenantId, 3);
		await env.DB.prepare("UPDATE jobs SET ready_at = ready_at - 1000 WHERE id = ?").bind(ids[2]).run();
		const { jobs } = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			limit: 2,
			now: Date.now(),
			claimedBy: "t",
			slots: slotPositions(0),
		});
		// Which jobs, not the order RETURNING lists them in (SQLite does not promise one).
		expect(jobs.map((j) => j.id).toSorted((a, b) => a.localeCompare(b))).toEqual(
			[ids[2], ids[0]].toSorted((a, b) => String(a).localeCompare(String(b))),
		);
	});
});

describe("statements stay within D1's 100 bound parameters", () => {
	it("for bulk enqueue with dependencies, rounds of 500 claims and their outcome writes", async () => {
		const seen: number[] = [];
		const counted = { ...env, DB: countingDb(env.DB, seen) } as Env;
		const { tenantId } = await createTenant();
		const [root] = await insertReady(tenantId, 1);
		await env.DB.prepare("UPDATE jobs SET status = 'completed', completed_at = ? WHERE id = ?")
			.bind(Date.now(), root)
			.run();
		await enqueueJobs(
			counted,
			tenantId,
			Array.from({ length: 100 }, (_, i) => ({
				type: "noop",
				payload: { i },
				priority: (["high", "medium", "low"] as const)[i % 3] ?? "high",
				max_retries: 3,
				depends_on: i < 10 && root ? [root] : undefined,
			})),
		);
		await insertReady(tenantId, 600, "null", "low");
		// The enqueue's own token (100 units) also reaches the background consumer, which races us.
		const summary = await runReadyJobs(counted, tenantId, 800, "queue:test");
		expect(summary.claimed).toBeGreaterThanOrEqual(600);
		expect(seen.length).toBeGreaterThan(5);
		expect(Math.max(...seen)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
		for (let i = 0; i < 50 && (await statusCounts(tenantId)).completed !== 701; i++)
			await new Promise((r) => setTimeout(r, 100));
		expect(await statusCounts(tenantId)).toEqual({ completed: 701 });
	});

	it("writes 500 mixed outcomes compare-and-set in a handful of statements", async () => {
		const seen: number[] = [];
		const counted = { ...env, DB: countingDb(env.DB, seen) } as Env;
		const { tenantId } = await createTenant();
		await insertReady(tenantId, 500);
		const { jobs } = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			slots: slotPositions(0),
			limit: 500,
			now: Date.now(),
			claimedBy: "t",
		});
		const finished: FinishedAttempt[] = jobs.map((job, i) => ({
			job,
			outcome:
				i % 4 === 0
					? { kind: "failed", error: "boom", retry: true }
					: i % 4 === 1
						? { kind: "failed", error: "bad", retry: false }
						: i % 4 === 2
							? { kind: "cancelled", reason: "stop" }
							: { kind: "completed", result: { i } },
			logs: i === 3 ? ["a line"] : [],
		}));
		// One job moved on meanwhile (cancelled by request): its outcome must not overwrite that.
		const moved = jobs[3];
		if (!moved) throw new Error("no job");
		await env.DB.prepare("UPDATE jobs SET status = 'cancelled', version = version + 1 WHERE id = ?")
			.bind(moved.id)
			.run();
		// Backoff near its 1 s ceiling, so the retry tokens cannot run the failed jobs before we look.
		const applied = await finishAttempts(counted, finished, { now: () => Date.now(), random: () => 0.999 });
		expect(applied.size).toBe(499);
		expect(applied.has(moved.id)).toBe(false);
		expect(Math.max(...seen)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
		expect(await statusCounts(tenantId)).toEqual({ failed: 125, dead: 125, cancelled: 126, completed: 124 });
		const row = await env.DB.prepare("SELECT result, progress, completed_at FROM jobs WHERE id = ?")
			.bind(jobs[7]?.id)
			.first<{ result: string; progress: number; completed_at: number }>();
		expect(JSON.parse(row?.result ?? "null")).toEqual({ i: 7 });
		expect(row?.progress).toBe(1);
		const logs = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM job_logs l JOIN jobs j ON j.id = l.job_id WHERE j.tenant_id = ?",
		)
			.bind(tenantId)
			.first<{ n: number }>();
		// A log line per failed or dead attempt, plus the handler's line.
		expect(logs?.n).toBe(251);
	});
});

describe("dependents settled for a whole round at once", () => {
	it("queues a fan-in job once all its dependencies complete in one outcome batch, and cancels chains of a dead one", async () => {
		const { tenantId } = await createTenant();
		const roots = await insertReady(tenantId, 4);
		const [a, b, c, d] = roots;
		if (!a || !b || !c || !d) throw new Error("no roots");
		const [fanIn, single, child] = await enqueueJobs(env, tenantId, [
			{ type: "noop", payload: null, priority: "low", max_retries: 3, depends_on: [a, b, c] },
			{ type: "noop", payload: null, priority: "low", max_retries: 3, depends_on: [a] },
			{ type: "noop", payload: null, priority: "low", max_retries: 3, depends_on: [d] },
		]);
		const [grandchild] = await enqueueJobs(env, tenantId, [
			{ type: "noop", payload: null, priority: "low", max_retries: 3, depends_on: [child?.job_id ?? ""] },
		]);
		const { jobs } = await claimReady(env.DB, {
			tenantId,
			runner: "queue",
			types: null,
			limit: 4,
			now: Date.now(),
			claimedBy: "t",
			slots: slotPositions(0),
		});
		expect(jobs.map((j) => j.id).sort()).toEqual([...roots].sort());
		await finishAttempts(
			env,
			jobs.map((job) => ({
				job,
				outcome: job.id === d ? { kind: "failed", error: "boom", retry: false } : { kind: "completed", result: null },
			})),
		);
		const row = (id: string | undefined) =>
			env.DB.prepare("SELECT status, pending_deps, error FROM jobs WHERE id = ?").bind(id).first();
		expect(await row(fanIn?.job_id)).toMatchObject({ pending_deps: 0 });
		expect(["queued", "processing", "completed"]).toContain((await row(fanIn?.job_id))?.status);
		expect(["queued", "processing", "completed"]).toContain((await row(single?.job_id))?.status);
		expect(await row(child?.job_id)).toEqual({
			status: "cancelled",
			pending_deps: 1,
			error: `dependency ${d} ended dead`,
		});
		expect(await row(grandchild?.job_id)).toEqual({
			status: "cancelled",
			pending_deps: 1,
			error: `dependency ${child?.job_id} ended cancelled`,
		});
	});
});

describe("built-in handler timeouts", () => {
	it("aborts a handler past timeout_seconds and fails the attempt", async () => {
		const real = globalThis.fetch;
		vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
			const req = new Request(input, init);
			if (!req.url.startsWith("https://slow.example/")) return real(input, init);
			// Never answers; gives up only when the job's signal is aborted.
			return new Promise<Response>((_, reject) =>
				init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
			);
		});
		const { apiKey } = await createTenant();
		const id = await enqueue(apiKey, {
			type: "http",
			timeout_seconds: 1,
			max_retries: 0,
			payload: { url: "https://slow.example/hook", body: "x" },
		});
		const job = await waitForJob(apiKey, id, (j) => j.status === "dead", 10_000);
		expect(job.error).toBe("timed out after 1 s");
		expect(job.attempts).toBe(1);
	});
});
