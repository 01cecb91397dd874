import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { REPORT_TYPE_NAMES } from "./domain";

/** Reports' answers as schemas and its routes' OpenAPI descriptions. */

const time = z.iso.datetime().nullable();
export const reportSchema = z
	.object({
		report_id: z.string().describe("Derived from (tenant, API key, type, params, time bucket)."),
		type: z.enum(REPORT_TYPE_NAMES),
		params: z.unknown(),
		status: z.enum(["queued", "running", "completed", "failed"]),
		progress: z.number().min(0).max(1).describe("chunks_done / chunks_total"),
		chunks_done: z.number().int(),
		chunks_total: z.number().int(),
		error: z.string().nullable(),
		created_at: time,
		started_at: time,
		finished_at: time,
		expires_at: time.describe("When the report and its result are deleted."),
		result: z
			.object({
				rows: z.number().int().nullable(),
				bytes: z.number().int().nullable(),
				json: z.string(),
				csv: z.string(),
			})
			.nullable()
			.describe("Links to the result, once completed."),
	})
	.meta({ id: "Report" });

const reports = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Reports"], access: "tenant", ...doc }));

export const reportDocs = {
	create: reports({
		summary: "Request a report (the same caller, type and params within the type's bucket get the same report)",
		ok: { 200: reportSchema, 202: reportSchema },
	}),
	list: reports({
		summary: "The tenant's reports, newest first",
		ok: { 200: z.object({ reports: z.array(reportSchema), next_cursor: z.string().nullable() }) },
	}),
	get: reports({
		summary: "A report's status, progress, error and result links",
		ok: { 200: reportSchema },
		errors: [404],
	}),
	result: reports({
		summary: "A completed report's result as JSON or CSV (streamed)",
		ok: {
			200: {
				description: "The result rows.",
				content: { "application/json": { schema: { type: "object" } }, "text/csv": { schema: { type: "string" } } },
			},
		},
		errors: [404, 409],
	}),
};
