import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { listJobs } from "./db";
import { JOB_ID, JOB_TYPE, jobSpecSchema } from "./spec";
import { STATUSES } from "./domain";
import { cancelJob, redriveJob, requireJob } from "./control";
import { enqueueJobs } from "./enqueue";
import { validate } from "../platform/validation";
import { jobJson } from "./json";
import { jobDocs } from "./openapi";

const idParam = z.object({ id: JOB_ID });
/**
 * Jobs per bulk call: as many as BullMQ's addBulk is usually fed (1,000), written in a handful of
 * json_each statements (each ≤ 100 KB, src/jobs/batches-db.ts) and one run token per ready second.
 */
export const MAX_BULK_JOBS = 1_000;
const bulkBody = z.object({ jobs: z.array(jobSpecSchema).min(1).max(MAX_BULK_JOBS) }).strict();
const listQuery = z
	.object({
		status: z.enum(STATUSES).optional(),
		type: JOB_TYPE.optional(),
		cursor: z
			.string()
			.regex(/^\d{1,16}\.job_[0-9a-f]{32}$/, "a cursor from next_cursor")
			.optional(),
		limit: z.coerce.number().int().min(1).max(100).default(50),
	})
	.strict();

/** Jobs: enqueue (one or bulk), read, list, cancel, redrive. POSTs accept an Idempotency-Key middleware in front. */
export const jobRoutes = new Hono<AppEnv>()
	.post("/", jobDocs.enqueue, validate("json", jobSpecSchema), async (c) => {
		const [job] = await enqueueJobs(c.env, c.get("principal").tenantId, [c.req.valid("json")]);
		if (!job) throw new Error("enqueue returned nothing");
		return c.json({ job_id: job.job_id, status: job.status, deduplicated: job.deduplicated }, 202);
	})
	.post("/bulk", jobDocs.enqueueBulk, validate("json", bulkBody), async (c) => {
		const jobs = await enqueueJobs(c.env, c.get("principal").tenantId, c.req.valid("json").jobs);
		return c.json({ jobs }, 202);
	})
	.get("/", jobDocs.list, validate("query", listQuery), async (c) => {
		const q = c.req.valid("query");
		const [createdAt, id] = q.cursor ? q.cursor.split(".") : [];
		const rows = await listJobs(c.env.DB, c.get("principal").tenantId, {
			...(q.status ? { status: q.status } : {}),
			...(q.type ? { type: q.type } : {}),
			...(createdAt && id ? { cursor: { createdAt: Number(createdAt), id } } : {}),
			limit: q.limit + 1,
		});
		const page = rows.slice(0, q.limit);
		const last = page.at(-1);
		return c.json({
			jobs: page.map(jobJson),
			next_cursor: rows.length > q.limit && last ? `${last.created_at}.${last.id}` : null,
		});
	})
	.get("/:id", jobDocs.get, validate("param", idParam), async (c) => {
		return c.json(jobJson(await requireJob(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id)));
	})
	.delete("/:id", jobDocs.cancel, validate("param", idParam), async (c) => {
		const job = await cancelJob(c.env, c.get("principal").tenantId, c.req.valid("param").id);
		return c.json(jobJson(job), job.status === "processing" ? 202 : 200);
	})
	.post("/:id/retry", jobDocs.retry, validate("param", idParam), async (c) => {
		return c.json(jobJson(await redriveJob(c.env, c.get("principal").tenantId, c.req.valid("param").id)), 202);
	});
