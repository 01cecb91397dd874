import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { findJob, listLogs } from "./db";
import { JOB_ID } from "./spec";
import { isTerminal } from "./domain";
import { requireJob } from "./control";
import { jobMetrics } from "./metrics";
import { validate } from "../platform/validation";
import { jobDocs } from "./openapi";

const idParam = z.object({ id: JOB_ID });
const POLL_MS = 500;
/** A stream ends after this long; EventSource reconnects on its own. */
const STREAM_MS = 5 * 60_000;

/** Metrics, the live event stream of one job, and its logs. */
export const jobInsightRoutes = new Hono<AppEnv>()
	.get("/metrics", jobDocs.metrics, async (c) => {
		return c.json(await jobMetrics(c.env.DB, c.get("principal").tenantId, Date.now()));
	})
	.get(
		"/:id/logs",
		jobDocs.logs,
		validate("param", idParam),
		validate("query", z.object({ after: z.coerce.number().int().min(0).default(0) }).strict()),
		async (c) => {
			const { id } = c.req.valid("param");
			await requireJob(c.env.DB, c.get("principal").tenantId, id);
			const logs = await listLogs(c.env.DB, id, c.req.valid("query").after, 500);
			return c.json({
				job_id: id,
				logs: logs.map((l) => ({ id: l.id, at: new Date(l.at).toISOString(), level: l.level, message: l.message })),
			});
		},
	)
	.get("/:id/events", jobDocs.events, validate("param", idParam), async (c) => {
		const { tenantId } = c.get("principal");
		const { id } = c.req.valid("param");
		await requireJob(c.env.DB, tenantId, id);
		// Server-Sent Events from D1 polling: one event per change of status, progress or attempt.
		return streamSSE(c, async (stream) => {
			let last = "";
			let seq = 0;
			const until = Date.now() + STREAM_MS;
			while (!stream.aborted && Date.now() < until) {
				const job = await findJob(c.env.DB, tenantId, id);
				if (!job) break;
				const state = {
					job_id: job.id,
					status: job.status,
					progress: job.progress,
					attempts: job.attempts,
					error: job.error,
				};
				const text = JSON.stringify(state);
				if (text !== last) {
					last = text;
					await stream.writeSSE({
						event: job.status === "processing" && seq > 0 ? "progress" : "status",
						data: text,
						id: String(seq++),
					});
				}
				if (isTerminal(job.status)) break;
				await stream.sleep(POLL_MS);
			}
		});
	});
