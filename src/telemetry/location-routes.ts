import { Hono } from "hono";
import type { AppEnv } from "../platform/app-env";
import type { StoredPoint } from "./domain";
import { locationBatchSchema, locationPointSchema, toStoredPoint } from "./domain";
import { locationMessages } from "./lanes";
import type { FieldError } from "../platform/validation";
import { assertActsAs } from "../devices/middleware";
import type { EdgeMeta } from "./ingest";
import { admitTelemetry, edgeMeta, messageId, parseTelemetry } from "./ingest";
import { telemetryDocs } from "./openapi";

/** Truck location ingest: checked here, enqueued, written to D1 by queues/telemetry.ts. */
export const locationRoutes = new Hono<AppEnv>()
	.post("/update", telemetryDocs.locationUpdate, async (c) => {
		const point = toStoredPoint(await parseTelemetry(c, locationPointSchema, () => 1));
		assertActsAs(c, point.truck_id);
		await admitTelemetry(c, toMessages(c.env, edgeMeta(c), [point]), 1);
		return c.json({ accepted: 1 }, 202);
	})
	.post("/batch", telemetryDocs.locationBatch, async (c) => {
		const points = (await parseTelemetry(c, locationBatchSchema, countPoints, groupByPoint)).points.map(toStoredPoint);
		for (const point of points) assertActsAs(c, point.truck_id);
		await admitTelemetry(c, toMessages(c.env, edgeMeta(c), points), points.length);
		return c.json({ accepted: points.length }, 202);
	});

/** Queue messages of the points, old ones (TELEMETRY_BACKFILL_AGE_SECONDS) in the backfill lane. */
function toMessages(env: Env, meta: EdgeMeta, points: readonly StoredPoint[]) {
	const backfillBefore = Date.now() - Number(env.TELEMETRY_BACKFILL_AGE_SECONDS) * 1000;
	return locationMessages(meta, points, backfillBefore, messageId);
}

function countPoints(raw: unknown): number {
	if (typeof raw === "object" && raw !== null && "points" in raw && Array.isArray(raw.points)) return raw.points.length;
	return 1;
}

/** The whole-batch rule's answer: every field error, plus the errors grouped by point index. */
function groupByPoint(fields: FieldError[]) {
	const byIndex = new Map<number, FieldError[]>();
	for (const f of fields) {
		const match = /^points\.(\d+)(?:\.(.*))?$/.exec(f.path);
		if (!match) continue;
		const index = Number(match[1]);
		byIndex.set(index, [...(byIndex.get(index) ?? []), { path: match[2] ?? "(point)", message: f.message }]);
	}
	return { fields, points: [...byIndex].sort((a, b) => a[0] - b[0]).map(([index, errors]) => ({ index, errors })) };
}
