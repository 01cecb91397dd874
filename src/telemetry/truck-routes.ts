import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import type { PositionRow } from "./db";
import { listTrack, listTruckPositions } from "./db";
import { deviceId } from "./domain";
import { validate } from "../platform/validation";
import { telemetryDocs as docs } from "./openapi";

const listQuery = z.object({
	limit: z.coerce.number().int().min(1).max(500).default(100),
	cursor: deviceId.optional(),
});
const trackParams = z.object({ truckId: deviceId });
const isoTime = z.iso.datetime({ offset: true, message: "an ISO-8601 date-time" }).transform((v) => Date.parse(v));
const trackQuery = z
	.object({
		from: isoTime.optional(),
		to: isoTime.optional(),
		limit: z.coerce.number().int().min(1).max(1000).default(500),
		// The cursor is the recorded_at (Unix ms) of the last point of the previous page.
		cursor: z
			.string()
			.regex(/^-?\d{1,16}$/, "a cursor from next_cursor")
			.transform(Number)
			.optional(),
	})
	.refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
		message: "from must be before to",
		path: ["from"],
	});

/** Reading truck telemetry back: latest positions and a truck's track, tenant-scoped. */
export const truckRoutes = new Hono<AppEnv>()
	.get("/", docs.trucks, validate("query", listQuery), async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const rows = await listTruckPositions(c.env.DB, c.get("principal").tenantId, limit, cursor ?? "");
		return c.json({
			trucks: rows.map(pointJson),
			next_cursor: rows.length === limit ? (rows.at(-1)?.truck_id ?? null) : null,
		});
	})
	.get("/:truckId/track", docs.track, validate("param", trackParams), validate("query", trackQuery), async (c) => {
		const { truckId } = c.req.valid("param");
		const q = c.req.valid("query");
		const rows = await listTrack(c.env.DB, {
			tenantId: c.get("principal").tenantId,
			truckId,
			from: q.from ?? Number.MIN_SAFE_INTEGER,
			to: q.to ?? Number.MAX_SAFE_INTEGER,
			after: q.cursor ?? null,
			limit: q.limit,
		});
		const last = rows.at(-1);
		return c.json({
			truck_id: truckId,
			points: rows.map(pointJson),
			next_cursor: rows.length === q.limit && last ? String(last.recorded_at) : null,
		});
	});

function pointJson(r: PositionRow) {
	return {
		truck_id: r.truck_id,
		lat: r.lat,
		lng: r.lng,
		speed_kmh: r.speed_kmh,
		heading: r.heading,
		recorded_at: new Date(r.recorded_at).toISOString(),
		received_at: new Date(r.received_at).toISOString(),
		colo: r.colo,
		country: r.country,
	};
}
