import { z } from "zod";
import { panelsSchema } from "./panels-schema";

/** The dashboard's answers, described once: the snapshot's TypeScript type and its OpenAPI schema. */

const point = z.tuple([z.number().int(), z.number()]).describe("[minute in epoch ms, value]");
const series = z.array(point);
const nullableMs = z.number().nullable();

export const snapshotSchema = z
	.object({
		at: z.number().int().describe("When the snapshot was taken, epoch ms."),
		scope: z.enum(["platform", "tenant"]),
		tenant_id: z.string().nullable(),
		ingest: z.object({
			received: z.number(),
			processed: z.number(),
			dead_letters: z.number(),
			backlog_live: z.number(),
			backlog_backfill: z.number(),
		}),
		queues: z.object({
			telemetry_backlog: z.number().describe("Telemetry updates enqueued, not yet written (an estimate)."),
			jobs_waiting: z.number().describe("Jobs queued, scheduled or failed-and-retrying."),
			jobs_processing: z.number(),
		}),
		jobs: z.object({
			by_status: z.record(z.string(), z.number()),
			by_type: z.array(
				z.object({
					type: z.string(),
					priority: z.string(),
					processed: z.number(),
					failed: z.number(),
					p50_ms: nullableMs,
					p95_ms: nullableMs,
					p99_ms: nullableMs,
				}),
			),
			counts: z.array(z.object({ status: z.string(), type: z.string(), n: z.number() })),
		}),
		payments: z.object({
			breaker: z.enum(["closed", "open", "half_open"]).nullable(),
			last_hour: z.record(z.string(), z.number()),
		}),
		devices: z.object({ total: z.number(), reporting: z.number(), missed: z.number() }),
		surge: z.object({ since: z.number(), minutes: series }).describe("Machine reports received per minute."),
		panels: panelsSchema,
		series: z
			.record(z.string(), series)
			.describe(
				"The last hour per minute: `http_*`, `limit_allowed:<policy>`, `limit_denied:<policy>`, `ingest_*` (rates per minute), gauges (`queue_*`, `jobs_*`, `devices_*`), `payments_<status>`, `jobs_finished_<status>`.",
			),
	})
	.meta({ id: "DashboardSnapshot" });

export type Snapshot = z.output<typeof snapshotSchema>;

export const sessionSchema = z
	.object({
		scope: z.enum(["admin", "tenant"]),
		tenant_id: z.string().nullable(),
		tenant_name: z.string().nullable(),
		expires_at: z.number().int(),
	})
	.meta({ id: "DashboardSession" });

export const sessionBody = z.object({
	token: z.string().min(1).max(512).describe("The admin token or a tenant API key, exchanged for a session cookie."),
});
