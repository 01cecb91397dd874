import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { PRIORITIES, STATUSES } from "./domain";

/** The jobs feature's answers as schemas, and its routes' OpenAPI descriptions (docs/api.md). */

const isoOrNull = z.iso.datetime().nullable();

export const jobSchema = z
	.object({
		job_id: z.string(),
		type: z.string(),
		status: z.enum(STATUSES),
		priority: z.enum(PRIORITIES),
		progress: z.number().nullable(),
		payload: z.unknown(),
		result: z.unknown(),
		error: z.string().nullable(),
		attempts: z.number().int(),
		max_retries: z.number().int(),
		timeout_seconds: z.number().int(),
		dedupe_key: z.string().nullable(),
		cancel_requested: z.boolean(),
		created_at: isoOrNull,
		started_at: isoOrNull,
		completed_at: isoOrNull,
		next_attempt_at: isoOrNull,
	})
	.meta({ id: "Job" });
const enqueuedSchema = z
	.object({ job_id: z.string(), status: z.enum(STATUSES), deduplicated: z.boolean() })
	.meta({ id: "EnqueuedJob" });
const scheduleSchema = z
	.object({
		schedule_id: z.string(),
		cron: z.string(),
		timezone: z.string(),
		job: z.unknown().describe("The job spec each run enqueues."),
		paused: z.boolean(),
		next_run_at: isoOrNull,
		last_run_at: isoOrNull,
	})
	.meta({ id: "Schedule" });
const jobTypeSchema = z
	.object({
		type: z.string(),
		mode: z.enum(["external", "builtin"]),
		max_concurrency: z.number().int().nullable(),
		rate_per_second: z.number().nullable(),
	})
	.meta({ id: "JobType" });
const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });
const metricsSchema = z.object({
	window_seconds: z.number(),
	metrics: z.array(
		z.object({
			type: z.string(),
			priority: z.enum(PRIORITIES),
			depth: z.object({
				queued: z.number().int(),
				scheduled: z.number().int(),
				waiting: z.number().int(),
				processing: z.number().int(),
				failed_retrying: z.number().int(),
			}),
			processed: z.number().int(),
			failed: z.number().int(),
			retry_rate: z.number().nullable(),
			processing_ms: percentiles,
			oldest_waiting_age_ms: z.number().nullable(),
		}),
	),
});

const jobs = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Jobs"], access: "tenant", ...doc }));
const workers = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Job workers"], access: "tenant", ...doc }));

export const jobDocs = {
	enqueue: jobs({ summary: "Enqueue a job", ok: { 202: enqueuedSchema } }),
	enqueueBulk: jobs({
		summary: "Enqueue up to 1,000 jobs at once",
		ok: { 202: z.object({ jobs: z.array(enqueuedSchema) }) },
	}),
	list: jobs({
		summary: "List jobs, newest first",
		ok: { 200: z.object({ jobs: z.array(jobSchema), next_cursor: z.string().nullable() }) },
	}),
	get: jobs({ summary: "Read a job", ok: { 200: jobSchema }, errors: [404] }),
	cancel: jobs({
		summary: "Cancel a job",
		description: "200 once cancelled; 202 while a running attempt is asked to stop.",
		ok: { 200: jobSchema, 202: jobSchema },
		errors: [404, 409],
	}),
	retry: jobs({ summary: "Redrive a dead job", ok: { 202: jobSchema }, errors: [404, 409] }),
	metrics: jobs({ summary: "Queue depth, throughput and latency per type and priority", ok: { 200: metricsSchema } }),
	logs: jobs({
		summary: "A job's log lines",
		ok: {
			200: z.object({
				job_id: z.string(),
				logs: z.array(z.object({ id: z.number().int(), at: z.iso.datetime(), level: z.string(), message: z.string() })),
			}),
		},
		errors: [404],
	}),
	events: jobs({
		summary: "Live status and progress events of a job (Server-Sent Events)",
		ok: {
			200: {
				description: "`status` and `progress` events, each data a JSON `{job_id, status, progress, attempts, error}`.",
				content: { "text/event-stream": { schema: { type: "string" } } },
			},
		},
		errors: [404],
	}),
	claim: workers({
		summary: "Claim the next job of the given external types",
		ok: {
			200: z.object({
				job_id: z.string(),
				type: z.string(),
				payload: z.unknown(),
				priority: z.enum(PRIORITIES),
				timeout_seconds: z.number().int(),
				attempt: z.number().int(),
			}),
			204: { description: "Nothing to claim." },
		},
	}),
	heartbeat: workers({
		summary: "Extend a claim and report progress",
		ok: {
			200: z.object({ job_id: z.string(), cancelled: z.boolean(), claim_expires_at: z.iso.datetime() }),
		},
		errors: [404, 409],
	}),
	complete: workers({ summary: "Complete a claimed job", ok: { 200: jobSchema }, errors: [404, 409] }),
	fail: workers({ summary: "Fail a claimed job's attempt", ok: { 200: jobSchema }, errors: [404, 409] }),
};

export const jobTypeDocs = {
	list: describeRoute(
		apiRoute({
			tags: ["Job types"],
			access: "tenant",
			summary: "List declared job types",
			ok: { 200: z.object({ job_types: z.array(jobTypeSchema) }) },
		}),
	),
	put: describeRoute(
		apiRoute({
			tags: ["Job types"],
			access: "tenant",
			summary: "Declare a job type or set its limits",
			ok: { 200: jobTypeSchema },
		}),
	),
};

const schedules = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Schedules"], access: "tenant", ...doc }));

export const scheduleDocs = {
	create: schedules({ summary: "Create a cron schedule", ok: { 201: scheduleSchema } }),
	list: schedules({ summary: "List schedules", ok: { 200: z.object({ schedules: z.array(scheduleSchema) }) } }),
	get: schedules({ summary: "Read a schedule", ok: { 200: scheduleSchema }, errors: [404] }),
	pause: schedules({ summary: "Pause a schedule", ok: { 200: scheduleSchema }, errors: [404] }),
	resume: schedules({ summary: "Resume a schedule", ok: { 200: scheduleSchema }, errors: [404] }),
	delete: schedules({
		summary: "Delete a schedule",
		ok: { 200: z.object({ schedule_id: z.string(), deleted: z.literal(true) }) },
		errors: [404],
	}),
};
