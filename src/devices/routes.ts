import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { findDevice, listDevices } from "./db";
import { deviceIdSchema, MAX_BULK_DEVICES, newDeviceSchema } from "./domain";
import { deviceJson, windowJson } from "./json";
import { registerDevices, revoke, rotateCredentials } from "./service";
import { capacityOf, reportWindowOf, setReportWindow } from "./slots/service";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { deviceDocs as docs } from "./openapi";

const params = z.object({ deviceId: deviceIdSchema });
const bulkBody = z
	.object({ devices: z.array(newDeviceSchema).min(1).max(MAX_BULK_DEVICES) })
	.strict()
	.refine((b) => new Set(b.devices.map((d) => d.device_id)).size === b.devices.length, {
		message: "device ids must be unique",
		path: ["devices"],
	});
const listQuery = z.object({
	limit: z.coerce.number().int().min(1).max(500).default(100),
	cursor: deviceIdSchema.optional(),
});
const windowBody = z
	.object({
		start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour"),
		duration_minutes: z.number().int().min(1).max(1440),
	})
	.strict();

/**
 * The device registry (tenant API key only, mounted with tenantApi): registration, listing,
 * rotation, revocation, report windows. A device's own routes are in ./self-routes.ts.
 */
export const deviceRoutes = new Hono<AppEnv>()
	.post("/", docs.register, validate("json", newDeviceSchema), async (c) => {
		const [issued] = await registerDevices(c.env.DB, c.get("principal").tenantId, [c.req.valid("json")]);
		return c.json(issued, 201);
	})
	.post("/bulk", docs.registerBulk, validate("json", bulkBody), async (c) => {
		const { tenantId } = c.get("principal");
		const devices = await registerDevices(c.env.DB, tenantId, c.req.valid("json").devices);
		return c.json({ devices, capacity: await capacity(c.env, tenantId) }, 201);
	})
	.get("/", docs.list, validate("query", listQuery), async (c) => {
		const { limit: pageSize, cursor } = c.req.valid("query");
		const rows = await listDevices(c.env.DB, c.get("principal").tenantId, pageSize, cursor ?? null);
		return c.json({
			devices: rows.map(deviceJson),
			next_cursor: rows.length === pageSize ? (rows.at(-1)?.device_id ?? null) : null,
		});
	})
	.get("/slots/capacity", docs.capacity, async (c) => {
		return c.json(await capacity(c.env, c.get("principal").tenantId));
	})
	.get("/slots/window", docs.window, async (c) => {
		return c.json(windowJson(await reportWindowOf(c.env.DB, c.get("principal").tenantId)));
	})
	.put("/slots/window", docs.setWindow, validate("json", windowBody), async (c) => {
		const { tenantId } = c.get("principal");
		const { start, duration_minutes } = c.req.valid("json");
		const window = {
			startMinute: Number(start.slice(0, 2)) * 60 + Number(start.slice(3)),
			durationMinutes: duration_minutes,
		};
		await setReportWindow(c.env.DB, tenantId, window);
		return c.json({ ...windowJson(window), capacity: await capacity(c.env, tenantId) });
	})
	.get("/:deviceId", docs.get, validate("param", params), async (c) => {
		const { deviceId } = c.req.valid("param");
		const row = await findDevice(c.env.DB, c.get("principal").tenantId, deviceId);
		if (!row) throw noDevice(deviceId);
		return c.json(deviceJson(row));
	})
	.post("/:deviceId/rotate", docs.rotate, validate("param", params), async (c) => {
		const { deviceId } = c.req.valid("param");
		const issued = await rotateCredentials(c.env.DB, c.get("principal").tenantId, deviceId);
		if (!issued) throw noDevice(deviceId, "or it is revoked");
		return c.json(issued);
	})
	.post("/:deviceId/revoke", docs.revoke, validate("param", params), async (c) => {
		const { deviceId } = c.req.valid("param");
		const row = await revoke(c.env.DB, c.get("principal").tenantId, deviceId);
		if (!row) throw noDevice(deviceId);
		return c.json(deviceJson(row));
	});

function capacity(env: Env, tenantId: string) {
	return capacityOf(env.DB, tenantId, Number(env.SUSTAINABLE_REPORTS_PER_SECOND));
}

function noDevice(deviceId: string, extra = ""): AppError {
	return new AppError(404, "not_found", `No device ${deviceId}${extra ? ` ${extra}` : ""}.`);
}
