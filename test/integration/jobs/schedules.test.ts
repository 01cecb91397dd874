import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepJobs } from "../../../src/jobs/sweeper";
import { call, createTenant, json } from "../helpers";
import { post } from "./jobs-helpers";

const CLOCK = { now: () => Date.now(), random: () => 0 };
const HOUR = 3_600_000;

async function createSchedule(apiKey: string, cron = "* * * * *"): Promise<string> {
	const res = await post(apiKey, "/schedules", { cron, timezone: "UTC", job: { type: "noop" } });
	expect(res.status).toBe(201);
	return String((await json(res)).schedule_id);
}

async function jobCount(tenantId: string): Promise<number> {
	const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ?")
		.bind(tenantId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

async function alarmOf(id: string): Promise<number | null> {
	return runInDurableObject(env.JOB_SCHEDULE.getByName(id), async (_o, state) => state.storage.getAlarm());
}

describe("schedule validation and caps", () => {
	it("refuses a cron with a seconds field with a 400 naming the 60 s minimum interval", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/schedules", { cron: "*/5 * * * * *", timezone: "UTC", job: { type: "noop" } });
		expect(res.status).toBe(400);
		const body = await json(res);
		expect(body).toMatchObject({ error: { code: "validation_failed" } });
		expect(JSON.stringify(body)).toContain("minimum interval is 60 s");
	});

	it("refuses a schedule whose built-in job has a timeout over 300 s", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/schedules", {
			cron: "0 * * * *",
			job: { type: "noop", timeout_seconds: 3_600 },
		});
		expect(res.status).toBe(400);
		expect(await json(res)).toMatchObject({ error: { code: "timeout_too_long" } });
	});

	it("answers 409 limit_exceeded with the cap once a tenant has 100 schedules", async () => {
		const { apiKey, tenantId } = await createTenant();
		const now = Date.now();
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
			 INSERT INTO job_schedules (id, tenant_id, cron, timezone, job, paused, created_at)
			 SELECT 'sch_' || lower(hex(randomblob(16))), ?, '0 0 * * *', 'UTC', '{"type":"noop"}', 1, ? FROM n`,
		)
			.bind(tenantId, now)
			.run();
		const res = await post(apiKey, "/schedules", { cron: "0 * * * *", job: { type: "noop" } });
		expect(res.status).toBe(409);
		expect(await json(res)).toMatchObject({
			error: { code: "limit_exceeded", details: { resource: "schedules", cap: 100 } },
		});
	});

	it("answers 409 limit_exceeded for a 51st declared job type, and still updates a declared one", async () => {
		const { apiKey, tenantId } = await createTenant();
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
			 INSERT INTO job_types (tenant_id, type, mode, updated_at) SELECT ?, 'ext-' || i, 'external', 0 FROM n`,
		)
			.bind(tenantId)
			.run();
		const put = (type: string, body: unknown) => call("PUT", `/api/v1/job-types/${type}`, { token: apiKey, body });
		const refused = await put("one-more", { mode: "external" });
		expect(refused.status).toBe(409);
		expect(await json(refused)).toMatchObject({
			error: { code: "limit_exceeded", details: { resource: "job_types", cap: 50 } },
		});
		expect((await put("ext-7", { mode: "external", max_concurrency: 3 })).status).toBe(200);
	});
});

describe("schedule alarms", () => {
	it("re-arms with backoff when the enqueue fails, without losing the occurrence, then fires it", async () => {
		const { apiKey, tenantId } = await createTenant();
		// A yearly cron, and alarms set an hour ahead: workerd itself fires an alarm that is due,
		// so a due alarm (or a real minute boundary) would race runDurableObjectAlarm. The alarm
		// handler fires the stored occurrence whenever it runs, so the stored `next` is what counts.
		const id = await createSchedule(apiKey, "0 0 1 1 *");
		const stub = env.JOB_SCHEDULE.getByName(id);
		const due = Date.now() - 1_000;
		// The template names a type the tenant never declared: enqueue throws 400 unknown_job_type.
		await env.DB.prepare("UPDATE job_schedules SET job = ? WHERE id = ?").bind('{"type":"ghost"}', id).run();
		await runInDurableObject(stub, async (_o, state) => {
			await state.storage.put("next", due);
			await state.storage.setAlarm(Date.now() + HOUR);
		});
		const before = Date.now();
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const retry = await alarmOf(id);
		expect(retry).not.toBeNull();
		expect(retry ?? 0).toBeGreaterThanOrEqual(before + 10_000);
		expect(retry ?? 0).toBeLessThanOrEqual(Date.now() + 10_000);
		await runInDurableObject(stub, async (_o, state) => {
			expect(await state.storage.get("next")).toBe(due);
			expect(await state.storage.get("failures")).toBe(1);
		});
		expect(await jobCount(tenantId)).toBe(0);
		// Fixed: the retry fires the same occurrence, once, and the alarm moves to the next one.
		await env.DB.prepare("UPDATE job_schedules SET job = ? WHERE id = ?").bind('{"type":"noop"}', id).run();
		await runInDurableObject(stub, async (_o, state) => state.storage.setAlarm(Date.now() + HOUR));
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await jobCount(tenantId)).toBe(1);
		expect(await alarmOf(id)).toBeGreaterThan(Date.now());
	});

	it("stops re-arming once the schedule is deleted", async () => {
		const { apiKey } = await createTenant();
		const id = await createSchedule(apiKey);
		await env.DB.prepare("DELETE FROM job_schedules WHERE id = ?").bind(id).run();
		const stub = env.JOB_SCHEDULE.getByName(id);
		await runInDurableObject(stub, async (_o, state) => state.storage.setAlarm(Date.now() + HOUR));
		await runDurableObjectAlarm(stub);
		expect(await alarmOf(id)).toBeNull();
	});
});

describe("the sweeper's schedule repair", () => {
	it("sets the alarm again for a schedule overdue by more than 2 minutes, and fires the missed occurrence", async () => {
		const { apiKey, tenantId } = await createTenant();
		const id = await createSchedule(apiKey);
		const stub = env.JOB_SCHEDULE.getByName(id);
		const missed = Date.now() - 3 * 60_000;
		await runInDurableObject(stub, async (_o, state) => {
			await state.storage.put("next", missed);
			await state.storage.deleteAlarm();
		});
		await env.DB.prepare("UPDATE job_schedules SET next_run_at = ? WHERE id = ?").bind(missed, id).run();
		const swept = await sweepJobs(env, CLOCK);
		expect(swept.schedules).toBeGreaterThanOrEqual(1);
		expect(await alarmOf(id)).not.toBeNull();
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await jobCount(tenantId)).toBeGreaterThanOrEqual(1);
		expect(await alarmOf(id)).toBeGreaterThan(Date.now());
	});

	it("arms a schedule whose row was written without its alarm", async () => {
		const { tenantId } = await createTenant();
		const id = `sch_${crypto.randomUUID().replaceAll("-", "")}`;
		await env.DB.prepare(
			"INSERT INTO job_schedules (id, tenant_id, cron, timezone, job, paused, next_run_at, created_at) VALUES (?, ?, '* * * * *', 'UTC', '{\"type\":\"noop\"}', 0, ?, ?)",
		)
			.bind(id, tenantId, Date.now() - 5 * 60_000, Date.now() - 5 * 60_000)
			.run();
		expect(await alarmOf(id)).toBeNull();
		await sweepJobs(env, CLOCK);
		expect(await alarmOf(id)).toBeGreaterThan(Date.now() - 1_000);
	});

	it("leaves a schedule that is only a little late alone", async () => {
		const { apiKey } = await createTenant();
		const id = await createSchedule(apiKey);
		await runInDurableObject(env.JOB_SCHEDULE.getByName(id), async (_o, state) => state.storage.deleteAlarm());
		await env.DB.prepare("UPDATE job_schedules SET next_run_at = ? WHERE id = ?")
			.bind(Date.now() - 30_000, id)
			.run();
		await sweepJobs(env, CLOCK);
		expect(await alarmOf(id)).toBeNull();
	});
});
