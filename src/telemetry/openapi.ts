import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { locationBatchSchema, locationPointSchema, reportSchema } from "./domain";

/** Telemetry's answers as schemas and its routes' OpenAPI descriptions (ingest, reads, stats, dead letters). */

const iso = z.iso.datetime();
const positionSchema = z
	.object({
		truck_id: z.string(),
		lat: z.number(),
		lng: z.number(),
		speed_kmh: z.number().nullable(),
		heading: z.number().nullable(),
		recorded_at: iso,
		received_at: iso,
		colo: z.string().nullable(),
		country: z.string().nullable(),
	})
	.meta({ id: "TruckPosition" });
const deadLetterSchema = z
	.object({
		id: z.string(),
		queue: z.enum(["floodgate-telemetry", "floodgate-feed"]).describe("The queue a replay sends it back to."),
		message_id: z.string(),
		tenant_id: z.string(),
		kind: z.string(),
		updates: z.number().int(),
		reason: z.string(),
		attempts: z.number().int(),
		created_at: iso,
		replayed_at: iso.nullable(),
		replay_count: z.number().int(),
		body: z.unknown().describe("The message as it was queued."),
	})
	.meta({ id: "DeadLetter" });
const accepted = z.object({ accepted: z.number().int().describe("Updates accepted (queued for writing).") });
const INGEST =
	"Checked at the edge, queued, written by the telemetry consumer. 400 names every invalid field; " +
	"503 with Retry-After while the backlog is over TELEMETRY_MAX_BACKLOG.";

const telemetry = (doc: Omit<RouteDoc, "tags">) => describeRoute(apiRoute({ tags: ["Telemetry"], ...doc }));

export const telemetryDocs = {
	locationUpdate: telemetry({
		access: "device",
		summary: "Ingest one truck location",
		description: `${INGEST} Server-Timing: total;dur=<ms> is the Worker's own time.`,
		body: locationPointSchema,
		ok: { 202: accepted },
		errors: [400],
	}),
	locationBatch: telemetry({
		access: "device",
		summary: "Ingest a batch of truck locations",
		description: `${INGEST} Server-Timing: total;dur=<ms> is the Worker's own time.`,
		body: locationBatchSchema,
		ok: { 202: accepted },
		errors: [400],
	}),
	machineReport: telemetry({
		access: "device",
		summary: "Ingest a vending machine's nightly report",
		description: `${INGEST} Registered machines also get their next report slot.`,
		body: reportSchema,
		ok: {
			202: z.object({
				accepted: z.literal(true),
				next_report_at: iso.optional(),
				in_slot: z.boolean().optional(),
				slot_at: iso.optional(),
				night: z.string().optional(),
			}),
		},
		errors: [400],
	}),
	machineStatus: telemetry({
		access: "device",
		summary: "A machine's latest reported status",
		ok: {
			200: z.object({
				machine_id: z.string(),
				report_date: z.string(),
				inventory: z.unknown(),
				cash_cents: z.number().int(),
				temperature_c: z.number(),
				error_codes: z.unknown(),
				firmware: z.string(),
				colo: z.string().nullable(),
				country: z.string().nullable(),
				received_at: iso,
			}),
		},
		errors: [404],
	}),
	trucks: telemetry({
		access: "tenant",
		summary: "The latest position of every truck",
		ok: { 200: z.object({ trucks: z.array(positionSchema), next_cursor: z.string().nullable() }) },
	}),
	track: telemetry({
		access: "tenant",
		summary: "A truck's track over time",
		ok: {
			200: z.object({ truck_id: z.string(), points: z.array(positionSchema), next_cursor: z.string().nullable() }),
		},
	}),
	stats: telemetry({
		access: "admin_or_tenant",
		summary: "Ingest figures: the caller's, or the platform's for the admin token",
		ok: {
			200: z.object({
				scope: z.enum(["platform", "tenant"]),
				tenant_id: z.string().nullable(),
				received: z.number().int(),
				enqueued: z.number().int(),
				processed: z.number().int(),
				batches: z.number().int(),
				last_batch_at: iso.nullable(),
				last_batch_size: z.number().int().nullable(),
				avg_batch_ms: z.number().nullable(),
				backlog: z.number().int().describe("An estimate: enqueued counts reach D1 a few seconds late."),
				dead_letters: z.number().int(),
				rejected: z.number().int(),
			}),
		},
	}),
};

const deadLetters = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Dead letters"], access: "admin", ...doc }));

export const deadLetterDocs = {
	list: deadLetters({
		summary: "List dead-lettered queue messages (telemetry, feed); filter with ?queue=",
		ok: { 200: z.object({ dead_letters: z.array(deadLetterSchema), next_cursor: z.string().nullable() }) },
	}),
	replay: deadLetters({
		summary: "Send a dead letter back to the queue it came from",
		ok: { 202: deadLetterSchema },
		errors: [404, 409, 422],
	}),
};
