import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { deviceIdSchema } from "./domain";
import { assertActsAs } from "./middleware";
import { reportTimingFor, scheduleOf } from "./slots/service";
import { validate } from "../platform/validation";
import { deviceDocs as docs } from "./openapi";

/**
 * Routes a device calls with its own token (or a gateway with the tenant key, for any device).
 * Each is mounted on its own full path (src/index.ts), `/api/v1/devices/:deviceId/<name>`, so the
 * device-token auth in front of it never reaches the registry's tenant-key routes beside it.
 */

const params = z.object({ deviceId: deviceIdSchema });
const heartbeatBody = z
	.object({ firmware: z.string().max(64).optional(), uptime_s: z.number().int().nonnegative().optional() })
	.strict();

/** GET /api/v1/devices/:deviceId/schedule: the machine's next report slot. */
export const deviceScheduleRoutes = new Hono<AppEnv>().get("/", docs.schedule, validate("param", params), async (c) => {
	const { deviceId } = c.req.valid("param");
	assertActsAs(c, deviceId);
	return c.json(await scheduleOf(c.env.DB, c.get("principal").tenantId, deviceId));
});

/** POST /api/v1/devices/:deviceId/heartbeat: liveness, answered with the next report time. */
export const deviceHeartbeatRoutes = new Hono<AppEnv>().post(
	"/",
	docs.heartbeat,
	validate("param", params),
	validate("json", heartbeatBody),
	async (c) => {
		const { deviceId } = c.req.valid("param");
		assertActsAs(c, deviceId);
		const now = Date.now();
		const timing = await reportTimingFor(c.env.DB, c.get("principal").tenantId, deviceId, now);
		return c.json({
			device_id: deviceId,
			received_at: new Date(now).toISOString(),
			next_report_at: timing?.next_report_at ?? null,
		});
	},
);
