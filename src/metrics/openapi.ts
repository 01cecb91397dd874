import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { ALERT_OPS } from "./alert-state";
import { alertExprSchema } from "./alerts";

/** Metrics' answers as schemas and its routes' OpenAPI descriptions. */

const alertSchema = z
	.object({
		id: z.string(),
		name: z.string(),
		expr: alertExprSchema,
		op: z.enum(ALERT_OPS),
		threshold: z.number(),
		for_seconds: z.number().int(),
		labels: z.record(z.string(), z.string()),
		state: z.enum(["inactive", "pending", "firing", "resolved"]),
		active_since: z.string().nullable(),
		fired_at: z.string().nullable(),
		resolved_at: z.string().nullable(),
		last_value: z.number().nullable(),
		last_evaluated_at: z.string().nullable(),
		created_at: z.string().nullable(),
	})
	.meta({ id: "MetricAlertRule" });

const metrics = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Metrics"], access: "tenant", ...doc }));

export const metricDocs = {
	ingest: metrics({
		summary: "Ingest a batch of up to 1,000 samples (202 once enqueued)",
		ok: { 202: z.object({ accepted: z.number().int(), messages: z.number().int(), new_series: z.number().int() }) },
		errors: [413, 422],
	}),
	query: metrics({
		summary: "One aggregated series over a range, from the coarsest tier the step allows (≤ 11,000 points)",
		ok: {
			200: z.object({
				name: z.string(),
				agg: z.string(),
				tier: z.enum(["raw", "1m", "1h"]),
				step_seconds: z.number(),
				points: z.array(z.object({ t: z.number().int(), v: z.number().nullable() })),
			}),
		},
	}),
	createAlert: metrics({
		summary: "Create an alert rule (at most 100 per tenant)",
		ok: { 201: alertSchema },
		errors: [422],
	}),
	listAlerts: metrics({
		summary: "Alert rules with their state (pending, firing, resolved)",
		ok: { 200: z.object({ alerts: z.array(alertSchema), next_cursor: z.string().nullable() }) },
	}),
	getAlert: metrics({ summary: "One alert rule and its state", ok: { 200: alertSchema }, errors: [404] }),
	deleteAlert: metrics({ summary: "Delete an alert rule", ok: { 204: { description: "Deleted." } }, errors: [404] }),
	exposition: describeRoute(
		apiRoute({
			tags: ["Metrics"],
			access: "admin",
			summary: "The platform's own figures in the Prometheus text format 0.0.4 (admin token or METRICS_SCRAPE_TOKEN)",
			ok: {
				200: {
					description: "Prometheus text exposition format 0.0.4.",
					content: { "text/plain": { schema: { type: "string" } } },
				},
			},
		}),
	),
};
