import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { JOB_ID, JOB_TYPE } from "./spec";
import { claimWeighted } from "./claims";
import { heartbeat, reportOutcome, requireClaim } from "./control";
import { declaredTypes } from "./declared-types";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { jobJson } from "./json";
import { jobDocs } from "./openapi";

const WORKER_ID = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, "1-128 of letters, digits, . _ : @ -");
const idParam = z.object({ id: JOB_ID });
const claimBody = z.object({ worker_id: WORKER_ID, types: z.array(JOB_TYPE).min(1).max(20) }).strict();
const heartbeatBody = z.object({ worker_id: WORKER_ID, progress: z.number().min(0).max(1).optional() }).strict();
const completeBody = z.object({ worker_id: WORKER_ID, result: z.unknown().default(null) }).strict();
const failBody = z
	.object({ worker_id: WORKER_ID, error: z.string().min(1).max(4_000), retry: z.boolean().default(true) })
	.strict();

/**
 * The pull API for external job types: claim (weighted by priority), heartbeat (extends the
 * visibility timeout, reports a cancel), complete, fail. A claim not heartbeated within the job's
 * timeout is taken back by the sweeper and the attempt counts.
 */
export const jobWorkerRoutes = new Hono<AppEnv>()
	.post("/claim", jobDocs.claim, validate("json", claimBody), async (c) => {
		const { tenantId } = c.get("principal");
		const { worker_id, types } = c.req.valid("json");
		const declared = await declaredTypes(c.env.DB, tenantId);
		const notExternal = types.filter((t) => declared.get(t)?.mode !== "external");
		if (notExternal.length > 0)
			throw new AppError(400, "not_external_type", `Not declared as external types: ${notExternal.join(", ")}.`, {
				types: notExternal,
			});
		const {
			jobs: [job],
		} = await claimWeighted(c.env, {
			tenantId,
			runner: "external",
			types,
			n: 1,
			now: Date.now(),
			claimedBy: worker_id,
		});
		if (!job) return c.body(null, 204);
		return c.json({
			job_id: job.id,
			type: job.type,
			payload: JSON.parse(job.payload) as unknown,
			priority: job.priority,
			timeout_seconds: job.timeout_seconds,
			attempt: job.attempts,
		});
	})
	.post("/:id/heartbeat", jobDocs.heartbeat, validate("param", idParam), validate("json", heartbeatBody), async (c) => {
		const body = c.req.valid("json");
		const job = await requireClaim(c.env, c.get("principal").tenantId, c.req.valid("param").id, body.worker_id);
		const beat = await heartbeat(c.env, job, body.progress);
		return c.json({
			job_id: job.id,
			cancelled: beat.cancelled,
			claim_expires_at: new Date(beat.claim_expires_at).toISOString(),
		});
	})
	.post("/:id/complete", jobDocs.complete, validate("param", idParam), validate("json", completeBody), async (c) => {
		const body = c.req.valid("json");
		const job = await requireClaim(c.env, c.get("principal").tenantId, c.req.valid("param").id, body.worker_id);
		return c.json(jobJson(await reportOutcome(c.env, job, { kind: "completed", result: body.result })));
	})
	.post("/:id/fail", jobDocs.fail, validate("param", idParam), validate("json", failBody), async (c) => {
		const body = c.req.valid("json");
		const job = await requireClaim(c.env, c.get("principal").tenantId, c.req.valid("param").id, body.worker_id);
		return c.json(jobJson(await reportOutcome(c.env, job, { kind: "failed", error: body.error, retry: body.retry })));
	});
