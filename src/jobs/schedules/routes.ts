import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import type { ScheduleRow } from "./db";
import { deleteSchedule, findSchedule, insertSchedule, listSchedules, updateScheduleRun } from "./db";
import { jobSpecSchema } from "../spec";
import { isValidSchedule } from "./domain";
import { AppError } from "../../platform/errors";
import { declaredTypes } from "../declared-types";
import { requireAllowedDestinations } from "../enqueue";
import { validate } from "../../platform/validation";

const ID = z.object({ id: z.string().regex(/^sch_[0-9a-f]{32}$/, "a schedule id") });
const scheduleBody = z
	.object({ cron: z.string().min(1).max(200), timezone: z.string().min(1).max(64).default("UTC"), job: jobSpecSchema })
	.strict()
	.refine((s) => isValidSchedule(s.cron, s.timezone), {
		message: "not a valid cron pattern and IANA time zone",
		path: ["cron"],
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
	.post("/", validate("json", scheduleBody), async (c) => {
		const { tenantId } = c.get("principal");
		const body = c.req.valid("json");
		requireAllowedDestinations(c.env, [body.job]);
		if (!(await declaredTypes(c.env.DB, tenantId)).has(body.job.type))
			throw new AppError(400, "unknown_job_type", `Job type '${body.job.type}' is not declared.`);
		const id = `sch_${crypto.randomUUID().replaceAll("-", "")}`;
		await insertSchedule(c.env.DB, {
			id,
			tenant_id: tenantId,
			cron: body.cron,
			timezone: body.timezone,
			job: JSON.stringify(body.job),
			paused: 0,
			next_run_at: null,
			last_run_at: null,
			created_at: Date.now(),
		});
		await c.env.JOB_SCHEDULE.getByName(id).sync(id);
		return c.json(scheduleJson(await requireSchedule(c.env.DB, tenantId, id)), 201);
	})
	.get("/", async (c) =>
		c.json({ schedules: (await listSchedules(c.env.DB, c.get("principal").tenantId)).map(scheduleJson) }),
	)
	.get("/:id", validate("param", ID), async (c) =>
		c.json(scheduleJson(await requireSchedule(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id))),
	)
	.post("/:id/pause", validate("param", ID), async (c) =>
		setPaused(c.env, c.get("principal").tenantId, c.req.valid("param").id, true).then((s) => c.json(scheduleJson(s))),
	)
	.post("/:id/resume", validate("param", ID), async (c) =>
		setPaused(c.env, c.get("principal").tenantId, c.req.valid("param").id, false).then((s) => c.json(scheduleJson(s))),
	)
	.delete("/:id", validate("param", ID), async (c) => {
		const { tenantId } = c.get("principal");
		const { id } = c.req.valid("param");
		if (!(await deleteSchedule(c.env.DB, tenantId, id))) throw notFound(id);
		await c.env.JOB_SCHEDULE.getByName(id).sync(id);
		return c.json({ schedule_id: id, deleted: true });
	});

async function setPaused(env: Env, tenantId: string, id: string, paused: boolean): Promise<ScheduleRow> {
	await requireSchedule(env.DB, tenantId, id);
	await updateScheduleRun(env.DB, id, { paused: paused ? 1 : 0, next_run_at: null });
	await env.JOB_SCHEDULE.getByName(id).sync(id);
	return requireSchedule(env.DB, tenantId, id);
}

async function requireSchedule(db: D1Database, tenantId: string, id: string): Promise<ScheduleRow> {
	const s = await findSchedule(db, tenantId, id);
	if (!s) throw notFound(id);
	return s;
}

function notFound(id: string): AppError {
	return new AppError(404, "schedule_not_found", `No schedule ${id}.`);
}
