import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { listReports } from "./db";
import { decodeListCursor, encodeListCursor, REPORT_TYPES } from "./domain";
import { reportDocs } from "./openapi";
import { enqueueStep, openReport, reportJson, requireReport, resultResponse } from "./service";
import { validate } from "../platform/validation";

const LIST_LIMIT = 100;
const STALLED_MS = 60_000;

const createBody = z.discriminatedUnion("type", [
	z.object({ type: z.literal("truck_distance"), params: REPORT_TYPES.truck_distance.params }).strict(),
	z.object({ type: z.literal("vending_sales"), params: REPORT_TYPES.vending_sales.params }).strict(),
	z.object({ type: z.literal("job_latency"), params: REPORT_TYPES.job_latency.params }).strict(),
	z.object({ type: z.literal("ratelimit_decisions"), params: REPORT_TYPES.ratelimit_decisions.params }).strict(),
]);
const idParam = z.object({ id: z.string().regex(/^rep_[0-9a-f]{32}$/, "a report id") });
const resultQuery = z.object({ format: z.enum(["json", "csv"]).default("json") });
const listQuery = z.object({
	cursor: z
		.string()
		.regex(/^\d{1,16}\.rep_[0-9a-f]{32}$/, "a cursor from next_cursor")
		.optional(),
	limit: z.coerce.number().int().min(1).max(LIST_LIMIT).default(50),
});

/** Analytics reports: requested once per bucket, computed in chunks by the report lanes, served from R2. */
export const reportRoutes = new Hono<AppEnv>()
	.post("/", reportDocs.create, validate("json", createBody), async (c) => {
		const { type, params } = c.req.valid("json");
		const now = Date.now();
		const opened = await openReport(c.env, c.get("principal"), type, params, now);
		// Enqueued after the rows are written. A repeat costs no message, unless the report never
		// started a minute after it was created (its first send failed): then the step is sent again
		// (a duplicate step is harmless: the step counter lets only one run).
		const { report } = opened;
		const unstarted = report.status === "queued" && report.step === 0 && now - report.created_at > STALLED_MS;
		if (opened.created || unstarted) await enqueueStep(c.env, report, 0);
		return c.json(reportJson(opened.report), opened.created ? 202 : 200);
	})
	.get("/", reportDocs.list, validate("query", listQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const before = cursor ? decodeListCursor(cursor) : null;
		const rows = await listReports(c.env.DB, c.get("principal").tenantId, before, limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			reports: page.map(reportJson),
			next_cursor: rows.length > limit && last ? encodeListCursor(last.created_at, last.id) : null,
		});
	})
	.get("/:id", reportDocs.get, validate("param", idParam), async (c) => {
		const report = await requireReport(c.env, c.get("principal").tenantId, c.req.valid("param").id, Date.now());
		return c.json(reportJson(report));
	})
	.get("/:id/result", reportDocs.result, validate("param", idParam), validate("query", resultQuery), async (c) => {
		const report = await requireReport(c.env, c.get("principal").tenantId, c.req.valid("param").id, Date.now());
		return resultResponse(c.env, report, c.req.valid("query").format);
	});
