import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobInsert } from "../../../src/jobs/batches-db";
import { insertJobsStatements } from "../../../src/jobs/batches-db";
import { cancelJob } from "../../../src/jobs/control";
import { enqueueJobs } from "../../../src/jobs/enqueue";
import { sweepJobs } from "../../../src/jobs/sweeper";
import { INLINE_CANCEL_LEVELS } from "../../../src/jobs/transitions";
import { MAX_BOUND_PARAMETERS } from "../../../src/platform/sql-db";
import { createTenant, json } from "../helpers";
import { post } from "./jobs-helpers";

const CLOCK = { now: () => Date.now(), random: () => 0 };
const NOOP = { type: "noop", payload: null, priority: "low", max_retries: 3 } as const;

/** External jobs written straight to D1: nothing runs them, so tests move them by hand. */
async function insertExternal(tenantId: string, n: number): Promise<string[]> {
	const now = Date.now();
	const jobs: JobInsert[] = Array.from({ length: n }, () => ({
		id: `job_${crypto.randomUUID().replaceAll("-", "")}`,
		type: "render",
		runner: "external",
		status: "queued",
		priority: "medium",
		payload: "null",
		max_retries: 0,
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

async function row(id: string | undefined) {
	return env.DB.prepare("SELECT status, pending_deps, error, dep_depth FROM jobs WHERE id = ?")
		.bind(id ?? "")
		.first<{ status: string; pending_deps: number; error: string | null; dep_depth: number }>();
}

/** The real D1 binding, counting statements and each one's bound parameters. */
function countingDb(db: D1Database, binds: number[]): D1Database {
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
						if (p === "bind") return (...args: unknown[]) => (binds.push(args.length), s.bind(...args));
						const value: unknown = Reflect.get(s, p);
						return typeof value === "function" ? value.bind(s) : value;
					},
				});
			};
		},
	});
}

describe("dependency caps", () => {
	it("refuses more than 20 depends_on with a 400", async () => {
		const { apiKey, tenantId } = await createTenant();
		const deps = await insertExternal(tenantId, 21);
		const res = await post(apiKey, "/jobs", { type: "noop", depends_on: deps });
		expect(res.status).toBe(400);
		expect(await json(res)).toMatchObject({ error: { code: "validation_failed" } });
		expect((await post(apiKey, "/jobs", { type: "noop", depends_on: deps.slice(0, 20) })).status).toBe(202);
	});

	it("refuses a chain deeper than 100 with 400 dependency_too_deep, and records each job's depth", async () => {
		const { apiKey, tenantId } = await createTenant();
		const [root] = await insertExternal(tenantId, 1);
		const child = String((await json(await post(apiKey, "/jobs", { type: "noop", depends_on: [root] }))).job_id);
		expect(await row(child)).toMatchObject({ dep_depth: 1, status: "waiting" });
		await env.DB.prepare("UPDATE jobs SET dep_depth = 99 WHERE id = ?").bind(child).run();
		const deepest = await post(apiKey, "/jobs", { type: "noop", depends_on: [child] });
		expect(deepest.status).toBe(202);
		const at100 = String((await json(deepest)).job_id);
		expect(await row(at100)).toMatchObject({ dep_depth: 100 });
		const tooDeep = await post(apiKey, "/jobs", { type: "noop", depends_on: [at100, root] });
		expect(tooDeep.status).toBe(400);
		expect(await json(tooDeep)).toMatchObject({
			error: { code: "dependency_too_deep", details: { depth: 101, max_depth: 100 } },
		});
	});

	it("writes a bulk of 100 jobs × 20 dependencies in a handful of statements within 100 parameters", async () => {
		const binds: number[] = [];
		const counted = { ...env, DB: countingDb(env.DB, binds) };
		const { tenantId } = await createTenant();
		const deps = await insertExternal(tenantId, 20);
		const answers = await enqueueJobs(
			counted,
			tenantId,
			Array.from({ length: 100 }, () => ({ ...NOOP, depends_on: deps })),
		);
		expect(answers.every((a) => a.status === "waiting")).toBe(true);
		expect(binds.length).toBeLessThanOrEqual(12);
		expect(Math.max(...binds)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
		const edges = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM job_dependencies WHERE depends_on IN (SELECT value FROM json_each(?))",
		)
			.bind(JSON.stringify(deps))
			.first<{ n: number }>();
		expect(edges?.n).toBe(2_000);
		expect(await row(answers[57]?.job_id)).toMatchObject({ status: "waiting", pending_deps: 20 });
	});
});

describe("the sweeper's dependency repair", () => {
	it("releases a waiting job whose dependencies all completed but whose release was lost", async () => {
		const { tenantId } = await createTenant();
		const deps = await insertExternal(tenantId, 2);
		const [waiting] = await enqueueJobs(env, tenantId, [{ ...NOOP, depends_on: deps }]);
		// Completed behind the release's back (it committed, then the follow-up was lost).
		await env.DB.prepare("UPDATE jobs SET status = 'completed' WHERE id IN (SELECT value FROM json_each(?))")
			.bind(JSON.stringify(deps))
			.run();
		await env.DB.prepare("UPDATE jobs SET updated_at = ? WHERE id = ?")
			.bind(Date.now() - 120_000, waiting?.job_id)
			.run();
		const swept = await sweepJobs(env, CLOCK);
		expect(swept.released).toBeGreaterThanOrEqual(1);
		expect(["queued", "processing", "completed"]).toContain((await row(waiting?.job_id))?.status);
	});

	it("cancels a waiting job whose dependency ended dead, and the jobs waiting on it", async () => {
		const { tenantId } = await createTenant();
		const [dep] = await insertExternal(tenantId, 1);
		const [child] = await enqueueJobs(env, tenantId, [{ ...NOOP, depends_on: [dep ?? ""] }]);
		const [grandchild] = await enqueueJobs(env, tenantId, [{ ...NOOP, depends_on: [child?.job_id ?? ""] }]);
		await env.DB.prepare("UPDATE jobs SET status = 'dead' WHERE id = ?").bind(dep).run();
		await env.DB.prepare("UPDATE jobs SET updated_at = ? WHERE id = ?")
			.bind(Date.now() - 120_000, child?.job_id)
			.run();
		await sweepJobs(env, CLOCK);
		expect(await row(child?.job_id)).toMatchObject({ status: "cancelled", error: `dependency ${dep} ended dead` });
		expect(await row(grandchild?.job_id)).toMatchObject({
			status: "cancelled",
			error: `dependency ${child?.job_id} ended cancelled`,
		});
	});

	it("cancels a chain past the inline levels on the next sweep", async () => {
		const { tenantId } = await createTenant();
		const [root] = await insertExternal(tenantId, 1);
		const chain: string[] = [];
		let previous = root ?? "";
		for (let i = 0; i < INLINE_CANCEL_LEVELS + 5; i++) {
			const [next] = await enqueueJobs(env, tenantId, [{ ...NOOP, depends_on: [previous] }]);
			previous = next?.job_id ?? "";
			chain.push(previous);
		}
		await cancelJob(env, tenantId, root ?? "");
		expect(await row(chain[INLINE_CANCEL_LEVELS - 1])).toMatchObject({ status: "cancelled" });
		expect(await row(chain[INLINE_CANCEL_LEVELS])).toMatchObject({ status: "waiting" });
		await env.DB.prepare("UPDATE jobs SET updated_at = ? WHERE id IN (SELECT value FROM json_each(?))")
			.bind(Date.now() - 120_000, JSON.stringify(chain))
			.run();
		await sweepJobs(env, CLOCK);
		for (const id of chain) expect((await row(id))?.status).toBe("cancelled");
	});
});
