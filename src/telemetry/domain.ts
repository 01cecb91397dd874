import { z } from "zod";

/**
 * Telemetry inputs (what devices send) and queue messages (what the edge enqueues). Both are
 * validated with these schemas: the handler before it enqueues, the consumer before it writes.
 */

/** Truck and machine ids: 1-64 of letters, digits, '_', '-', '.', ':', starting with a letter or digit. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** How far in the future a device clock may be before its points are refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const MAX_POINTS_PER_BATCH = 500;

export const deviceId = z
	.string()
	.regex(DEVICE_ID_PATTERN, "1-64 characters: letters, digits, '_', '-', '.', ':' (starting with a letter or digit)");

const recordedAt = z.iso
	.datetime({ offset: true, message: "an ISO-8601 date-time with Z or an offset, e.g. 2026-11-20T08:30:00Z" })
	// Malformed values already have their format error; the clock check only judges parseable ones.
	.refine((value) => notAfter(Date.parse(value), Date.now() + MAX_CLOCK_SKEW_MS), "more than 5 minutes in the future");

export const locationPointSchema = z
	.object({
		truck_id: deviceId,
		lat: z.number().min(-90).max(90),
		lng: z.number().min(-180).max(180),
		speed_kmh: z.number().min(0).optional(),
		heading: z.number().min(0).lt(360).optional(),
		recorded_at: recordedAt,
	})
	.strict();

export const locationBatchSchema = z
	.object({ points: z.array(locationPointSchema).min(1).max(MAX_POINTS_PER_BATCH) })
	.strict();

const slotSchema = z
	.object({
		slot: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, "1-16 letters, digits, '_' or '-'"),
		sku: z.string().min(1).max(64),
		count: z.number().int().min(0),
		capacity: z.number().int().min(1).max(100_000),
	})
	.strict()
	.refine((s) => s.count <= s.capacity, { message: "count exceeds capacity", path: ["count"] });

export const reportSchema = z
	.object({
		report_date: z.iso.date("a date YYYY-MM-DD (the machine's local date)").refine(
			// A machine's local date can be at most one day ahead of UTC (UTC+14).
			(d) => notAfter(Date.parse(`${d}T00:00:00Z`), Date.now() + 86_400_000),
			"in the future",
		),
		inventory: z
			.array(slotSchema)
			.max(500)
			.refine((slots) => new Set(slots.map((s) => s.slot)).size === slots.length, "slots must be unique"),
		cash_cents: z.number().int().min(0).max(1e12),
		temperature_c: z.number().min(-60).max(120),
		error_codes: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, "1-32 letters, digits, '_', '.', '-'")).max(100),
		firmware: z.string().min(1).max(64),
	})
	.strict();

export type LocationPointInput = z.output<typeof locationPointSchema>;
export type ReportInput = z.output<typeof reportSchema>;

// Queue messages. Times are Unix ms; colo/country are null where request.cf is absent (locally).
const messageMeta = {
	v: z.literal(1),
	id: z.string().regex(/^msg_[0-9a-f]{24}$/),
	tenant_id: z.string().regex(/^ten_[0-9a-f]{24}$/),
	received_at: z.number().int().positive(),
	colo: z.string().max(16).nullable(),
	country: z.string().max(8).nullable(),
	/** Set on the backfill lane's messages (see lanes.ts); absent = live. */
	lane: z.literal("backfill").optional(),
};

const storedPointSchema = z
	.object({
		truck_id: deviceId,
		lat: z.number().min(-90).max(90),
		lng: z.number().min(-180).max(180),
		speed_kmh: z.number().min(0).nullable(),
		heading: z.number().min(0).lt(360).nullable(),
		recorded_at: z.number().int(),
		/** Set when group commit packed points of several requests into one message (pack.ts) and this
		 * point's request was received at another time than the message's `received_at`. */
		received_at: z.number().int().positive().optional(),
	})
	.strict();

export const locationsMessageSchema = z
	.object({ ...messageMeta, kind: z.literal("locations"), points: z.array(storedPointSchema).min(1).max(100) })
	.strict();
export const reportMessageSchema = z
	.object({ ...messageMeta, kind: z.literal("report"), machine_id: deviceId, report: reportSchema })
	.strict();
export const telemetryMessageSchema = z.discriminatedUnion("kind", [locationsMessageSchema, reportMessageSchema]);

export type StoredPoint = z.output<typeof storedPointSchema>;
export type LocationsMessage = z.output<typeof locationsMessageSchema>;
export type ReportMessage = z.output<typeof reportMessageSchema>;
export type TelemetryMessage = z.output<typeof telemetryMessageSchema>;

/** How many updates a message carries (points, or one report): the unit of every counter. */
export function updateCount(message: TelemetryMessage): number {
	return message.kind === "locations" ? message.points.length : 1;
}

function notAfter(time: number, limit: number): boolean {
	return Number.isNaN(time) || time <= limit;
}

export function toStoredPoint(p: LocationPointInput): StoredPoint {
	return {
		truck_id: p.truck_id,
		lat: p.lat,
		lng: p.lng,
		speed_kmh: p.speed_kmh ?? null,
		heading: p.heading ?? null,
		recorded_at: Date.parse(p.recorded_at),
	};
}
