import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { findDevice } from "./db";
import { deviceIdSchema } from "./domain";
import { nextSlot } from "./slots/domain";
import { AppError } from "../platform/errors";
import { assertActsAs, deviceOrTenantAuth } from "./middleware";
import { rateLimit } from "../gateway/limiter/middleware";
import { reportTimingFor, reportWindowOf, shapeOfZone } from "./slots/service";
import { validate } from "../platform/validation";
import { windowJson } from "./routes";

const params = z.object({ deviceId: deviceIdSchema });
const heartbeatBody = z
	.object({ firmware: z.string().max(64).optional(), uptime_s: z.number().int().nonnegative().optional() })
	.strict();

const auth = deviceOrTenantAuth();
const limit = rateLimit();

/** Routes a device calls with its own token (or a gateway with the tenant key, for any device). */
export const deviceSelfRoutes = new Hono<AppEnv>()
	.get("/:deviceId/schedule", auth, limit, validate("param", params), async (c) => {
		const { deviceId } = c.req.valid("param");
		assertActsAs(c, deviceId);
		const { tenantId } = c.get("principal");
		const row = await findDevice(c.env.DB, tenantId, deviceId);
		if (!row || row.revoked_at !== null) throw new AppError(404, "not_found", `No active device ${deviceId}.`);
		if (row.kind !== "vending")
			throw new AppError(
				409,
				"no_report_slot",
				`Device ${deviceId} is a ${row.kind}; only vending machines have report slots.`,
			);
		const now = Date.now();
		const window = await reportWindowOf(c.env.DB, tenantId, now);
		const device = { tenantId, deviceId, timezone: row.timezone };
		const shapeOf = await shapeOfZone(c.env.DB, tenantId, window, row.timezone, now);
		const next = nextSlot(device, window, now, shapeOf);
		return c.json({
			device_id: deviceId,
			timezone: row.timezone,
			window: windowJson(window),
			slot_offset_seconds: Math.round((next.at - next.windowStart) / 1000),
			next_report_at: new Date(next.at).toISOString(),
		});
	})
	.post("/:deviceId/heartbeat", auth, limit, validate("param", params), validate("json", heartbeatBody), async (c) => {
		const { deviceId } = c.req.valid("param");
		assertActsAs(c, deviceId);
		const now = Date.now();
		const timing = await reportTimingFor(c.env.DB, c.get("principal").tenantId, deviceId, now);
		return c.json({
			device_id: deviceId,
			received_at: new Date(now).toISOString(),
			next_report_at: timing?.next_report_at ?? null,
		});
	});
