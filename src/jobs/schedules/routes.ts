import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import type { ScheduleRow } from "./db";
import { deleteSchedule, findSchedule, insertSchedule, listSchedules, updateScheduleRun } from "./db";
import { jobSpecSchema, requireTimeouts } from "../spec";
import { nextOccurrence, scheduleProblem } from "./domain";
import { AppError } from "../../platform/errors";
import { declaredTypes } from "../declared-types";
import { requireAllowedDestinations } from "../enqueue";
import { validate } from "../../platform/validation";
import { scheduleDocs } from "../openapi";
import { TENANT_CAPS, limitExceeded } from "../../platform/tenant-caps";
import { errorText, log } from "../../platform/log";

const ID = z.object({ id: z.string().regex(/^sch_[0-9a-f]{32}$/, "a schedule id") });
const scheduleBody = z
	.object({ cron: z.string().min(1).max(200), timezone: z.string().min(1).max(64).default("UTC"), job: jobSpecSchema })
	.strict()
	.superRefine((s, ctx) => {
		const problem = scheduleProblem(s.cron, s.timezone);
		if (problem !== null) ctx.addIssue({ code: "custom", message: problem, path: ["cron"] });
	})
	.refine(
		(s) =>
			s.job.delay_seconds === undefined &&
			s.job.run_at === undefined &&
			s.job.depends_on === undefined &&
			s.job.dedupe_key === undefined,
		{
			message: "a schedule's job takes no delay_seconds, run_at, depends_on or dedupe_key",
			path: ["job"],
		},
	);

function scheduleJson(s: ScheduleRow) {
	return {
		schedule_id: s.id,
		cron: s.cron,
		timezone: s.timezone,
		job: JSON.parse(s.job) as unknown,
		paused: s.paused === 1,
		next_run_at: s.next_run_at === null ? null : new Date(s.next_run_at).toISOString(),
		last_run_at: s.last_run_at === null ? null : new Date(s.last_run_at).toISOString(),
	};
}

/** Cron schedules in IANA time zones; each one is a JobSchedule Durable Object with an alarm. */
export const scheduleRoutes = new Hono<AppEnv>()
	.post("/", scheduleDocs.create, validate("json", scheduleBody), async (c) => {
		const { tenantId } = c.get("principal");
		const body = c.req.valid("json");
		requireAllowedDestinations(c.env, [body.job]);
		const types = await declaredTypes(c.env.DB, tenantId);
		if (!types.has(body.job.type))
			throw new AppError(400, "unknown_job_type", `Job type '${body.job.type}' is not declared.`);
		requireTimeouts([body.job], types);
		const id = `sch_${crypto.randomUUID().replaceAll("-", "")}`;
		const now = Date.now();
		// next_run_at is written with the row, so a row whose alarm was never set is overdue in D1
		// and the sweeper arms it (src/jobs/schedules/repair.ts).
		const row = {
			id,
			tenant_id: tenantId,
			cron: body.cron,
			timezone: body.timezone,
			job: JSON.stringify(body.job),
			paused: 0,
			next_run_at: nextOccurrence(body.cron, body.timezone, now),
			last_run_at: null,
			created_at: now,
		};
		if (!(await insertSchedule(c.env.DB, row, TENANT_CAPS.schedules))) throw limitExceeded("schedules");
		await syncOrLeaveToSweeper(c.env, id);
		return c.json(scheduleJson(await requireSchedule(c.env.DB, tenantId, id)), 201);
	})
	.get("/", scheduleDocs.list, async (c) =>
		c.json({ schedules: (await listSchedules(c.env.DB, c.get("principal").tenantId)).map(scheduleJson) }),
	)
	.get("/:id", scheduleDocs.get, validate("param", ID), async (c) =>
		c.json(scheduleJson(await requireSchedule(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id))),
	)
	.post("/:id/pause", scheduleDocs.pause, validate("param", ID), async (c) =>
		setPaused(c.env, c.get("principal").tenantId, c.req.valid("param").id, true).then((s) => c.json(scheduleJson(s))),
	)
	.post("/:id/resume", scheduleDocs.resume, validate("param", ID), async (c) =>
		setPaused(c.env, c.get("principal").tenantId, c.req.valid("param").id, false).then((s) => c.json(scheduleJson(s))),
	)
	.delete("/:id", scheduleDocs.delete, validate("param", ID), async (c) => {
		const { tenantId } = c.get("principal");
		const { id } = c.req.valid("param");
		if (!(await deleteSchedule(c.env.DB, tenantId, id))) throw notFound(id);
		await c.env.JOB_SCHEDULE.getByName(id).sync(id);
		return c.json({ schedule_id: id, deleted: true });
	});

async function setPaused(env: Env, tenantId: string, id: string, paused: boolean): Promise<ScheduleRow> {
	const row = await requireSchedule(env.DB, tenantId, id);
	const next = paused ? null : nextOccurrence(row.cron, row.timezone, Date.now());
	await updateScheduleRun(env.DB, id, { paused: paused ? 1 : 0, next_run_at: next });
	if (paused) await env.JOB_SCHEDULE.getByName(id).sync(id);
	else await syncOrLeaveToSweeper(env, id);
	return requireSchedule(env.DB, tenantId, id);
}

/**
 * Arms the schedule's alarm. The row is already durable with its next_run_at: if the Durable
 * Object cannot be reached now, the sweeper finds the schedule overdue and arms it.
 */
async function syncOrLeaveToSweeper(env: Env, id: string): Promise<void> {
	try {
		await env.JOB_SCHEDULE.getByName(id).sync(id);
	} catch (err) {
		log.warn("schedule alarm not set; the sweeper will repair it", { schedule_id: id, error: errorText(err) });
	}
}

async function requireSchedule(db: D1Database, tenantId: string, id: string): Promise<ScheduleRow> {
	const s = await findSchedule(db, tenantId, id);
	if (!s) throw notFound(id);
	return s;
}

function notFound(id: string): AppError {
	return new AppError(404, "schedule_not_found", `No schedule ${id}.`);
}
