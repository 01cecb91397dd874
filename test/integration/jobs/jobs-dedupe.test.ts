import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertJobsStatements } from "../../../src/jobs/batches-db";
import type { JobInsert } from "../../../src/jobs/batches-db";
import { enqueueJobs } from "../../../src/jobs/enqueue";
import { createTenant } from "../helpers";

function newJobId(): string {
	return `job_${crypto.randomUUID().replaceAll("-", "")}`;
}

function liveJob(id: string, dedupeKey: string): JobInsert {
	return {
		id,
		type: "noop",
		runner: "queue",
		status: "scheduled",
		priority: "medium",
		payload: "null",
		max_retries: 3,
		timeout_seconds: 60,
		dedupe_key: dedupeKey,
		ready_at: Date.now() + 3_600_000,
		pending_deps: 0,
		error: null,
		completed_at: null,
	};
}

/** The real D1 binding, where another request writes `job` just before our batch runs. */
function racedDb(db: D1Database, tenantId: string, job: JobInsert): D1Database {
	let raced = false;
	return new Proxy(db, {
		get(target, prop, receiver) {
			if (prop === "batch") {
				return async (statements: D1PreparedStatement[]) => {
					if (!raced) {
						raced = true;
						await target.batch(insertJobsStatements(target, tenantId, [job], Date.now()));
					}
					return target.batch(statements);
				};
			}
			const value: unknown = Reflect.get(target, prop, receiver);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

describe("dedupe keys taken concurrently", () => {
	it("answers with the concurrent request's job and still creates the other jobs of the bulk", async () => {
		const { tenantId } = await createTenant();
		const theirs = liveJob(newJobId(), "race-1");
		const db = racedDb(env.DB, tenantId, theirs);
		const out = await enqueueJobs({ ...env, DB: db }, tenantId, [
			{ type: "noop", payload: null, priority: "medium", max_retries: 3, dedupe_key: "race-1" },
			{ type: "noop", payload: null, priority: "medium", max_retries: 3, dedupe_key: "race-1" },
			{ type: "noop", payload: null, priority: "medium", max_retries: 3, delay_seconds: 3600 },
		]);
		expect(out[0]).toEqual({ job_id: theirs.id, status: "scheduled", deduplicated: true });
		expect(out[1]).toEqual({ job_id: theirs.id, status: "scheduled", deduplicated: true });
		expect(out[2]).toMatchObject({ status: "scheduled", deduplicated: false });
		const { results } = await env.DB.prepare("SELECT id FROM jobs WHERE tenant_id = ?")
			.bind(tenantId)
			.all<{ id: string }>();
		expect(new Set(results.map((r) => r.id))).toEqual(new Set([theirs.id, out[2]?.job_id]));
	});

	it("writes no dependency edges for a job that lost its dedupe key", async () => {
		const { tenantId } = await createTenant();
		const root = liveJob(newJobId(), "root");
		await env.DB.batch(insertJobsStatements(env.DB, tenantId, [root], Date.now()));
		const theirs = liveJob(newJobId(), "race-2");
		const [answer] = await enqueueJobs({ ...env, DB: racedDb(env.DB, tenantId, theirs) }, tenantId, [
			{ type: "noop", payload: null, priority: "medium", max_retries: 3, dedupe_key: "race-2", depends_on: [root.id] },
		]);
		expect(answer).toEqual({ job_id: theirs.id, status: "scheduled", deduplicated: true });
		const edges = await env.DB.prepare("SELECT COUNT(*) AS n FROM job_dependencies WHERE depends_on = ?")
			.bind(root.id)
			.first<{ n: number }>();
		expect(edges?.n).toBe(0);
		const flag = await env.DB.prepare("SELECT has_dependents FROM jobs WHERE id = ?")
			.bind(root.id)
			.first<{ has_dependents: number }>();
		expect(flag?.has_dependents).toBe(0);
	});
});
