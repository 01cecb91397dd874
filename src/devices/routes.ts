import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import type { DeviceInsert, DeviceRow } from "./db";
import {
	countVendingByTimezone,
	existingDeviceIds,
	findDevice,
	insertDevices,
	listDevices,
	revokeDevice,
	rotateDeviceCredentials,
} from "./db";
import { hashSecret } from "../gateway/tenants/domain";
import type { NewDevice } from "./domain";
import {
	deviceIdSchema,
	deviceTokenPrefix,
	generateDeviceToken,
	generateSigningSecret,
	MAX_BULK_DEVICES,
	newDeviceSchema,
} from "./domain";
import { checkCapacity } from "./slots/capacity";
import { AppError } from "../platform/errors";
import { forgetDevice } from "./middleware";
import { rateLimit } from "../gateway/limiter/middleware";
import { tenantAuth } from "../gateway/tenants/middleware";
import { reportWindowOf, setReportWindow, forgetFleet } from "./slots/service";
import { validate } from "../platform/validation";

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

// Created once: every registry route is a tenant route (API key, then the gateway limiter).
const auth = tenantAuth();
const limit = rateLimit();

/** The device registry (tenant API key only): registration, listing, rotation, revocation, report windows. */
export const deviceRoutes = new Hono<AppEnv>()
	.post("/", auth, limit, validate("json", newDeviceSchema), async (c) => {
		const [issued] = await register(c.env.DB, c.get("principal").tenantId, [c.req.valid("json")]);
		return c.json(issued, 201);
	})
	.post("/bulk", auth, limit, validate("json", bulkBody), async (c) => {
		const { tenantId } = c.get("principal");
		const devices = await register(c.env.DB, tenantId, c.req.valid("json").devices);
		return c.json({ devices, capacity: await capacityOf(c.env, tenantId) }, 201);
	})
	.get("/", auth, limit, validate("query", listQuery), async (c) => {
		const { limit: pageSize, cursor } = c.req.valid("query");
		const rows = await listDevices(c.env.DB, c.get("principal").tenantId, pageSize, cursor ?? null);
		return c.json({
			devices: rows.map(deviceJson),
			next_cursor: rows.length === pageSize ? (rows.at(-1)?.device_id ?? null) : null,
		});
	})
	.get("/slots/capacity", auth, limit, async (c) => {
		return c.json(await capacityOf(c.env, c.get("principal").tenantId));
	})
	.get("/slots/window", auth, limit, async (c) => {
		return c.json(windowJson(await reportWindowOf(c.env.DB, c.get("principal").tenantId)));
	})
	.put("/slots/window", auth, limit, validate("json", windowBody), async (c) => {
		const { tenantId } = c.get("principal");
		const { start, duration_minutes } = c.req.valid("json");
		const window = {
			startMinute: Number(start.slice(0, 2)) * 60 + Number(start.slice(3)),
			durationMinutes: duration_minutes,
		};
		await setReportWindow(c.env.DB, tenantId, window);
		return c.json({ ...windowJson(window), capacity: await capacityOf(c.env, tenantId) });
	})
	.get("/:deviceId", auth, limit, validate("param", params), async (c) => {
		const { deviceId } = c.req.valid("param");
		const row = await findDevice(c.env.DB, c.get("principal").tenantId, deviceId);
		if (!row) throw noDevice(deviceId);
		return c.json(deviceJson(row));
	})
	.post("/:deviceId/rotate", auth, limit, validate("param", params), async (c) => {
		const { tenantId } = c.get("principal");
		const { deviceId } = c.req.valid("param");
		const token = generateDeviceToken();
		const signingSecret = generateSigningSecret();
		const row = await rotateDeviceCredentials(
			c.env.DB,
			tenantId,
			deviceId,
			{ hash: await hashSecret(token), prefix: deviceTokenPrefix(token), signingSecret },
			Date.now(),
		);
		if (!row) throw noDevice(deviceId, "or it is revoked");
		forgetDevice(tenantId, deviceId);
		forgetFleet(tenantId);
		return c.json({ device_id: deviceId, token, ...(row.signed ? { signing_secret: signingSecret } : {}) });
	})
	.post("/:deviceId/revoke", auth, limit, validate("param", params), async (c) => {
		const { tenantId } = c.get("principal");
		const { deviceId } = c.req.valid("param");
		const row = await revokeDevice(c.env.DB, tenantId, deviceId, Date.now());
		if (!row) throw noDevice(deviceId);
		forgetDevice(tenantId, deviceId);
		forgetFleet(tenantId);
		return c.json(deviceJson(row));
	});

type Issued = { device_id: string; token: string; signing_secret?: string };

/** Issues credentials and stores the devices, all or none; 409 naming the ids the tenant already has. */
async function register(db: D1Database, tenantId: string, devices: NewDevice[]): Promise<Issued[]> {
	const taken = await existingDeviceIds(
		db,
		tenantId,
		devices.map((d) => d.device_id),
	);
	if (taken.length > 0) throw conflict(taken);
	const issued: Issued[] = [];
	const rows: DeviceInsert[] = [];
	for (const d of devices) {
		const token = generateDeviceToken();
		const signingSecret = d.signed ? generateSigningSecret() : null;
		issued.push({ device_id: d.device_id, token, ...(signingSecret ? { signing_secret: signingSecret } : {}) });
		rows.push({
			device_id: d.device_id,
			kind: d.kind,
			timezone: d.timezone,
			city: d.city,
			lat: d.lat ?? null,
			lng: d.lng ?? null,
			token_hash: await hashSecret(token),
			token_prefix: deviceTokenPrefix(token),
			signing_secret: signingSecret,
		});
	}
	try {
		await insertDevices(db, tenantId, rows, Date.now());
		forgetFleet(tenantId);
	} catch (err) {
		// A concurrent registration of the same id won the race: the batch rolled back whole.
		if (String(err).includes("UNIQUE")) throw conflict([]);
		throw err;
	}
	return issued;
}

async function capacityOf(env: Env, tenantId: string) {
	const [zones, window] = await Promise.all([
		countVendingByTimezone(env.DB, tenantId),
		reportWindowOf(env.DB, tenantId),
	]);
	return {
		window: windowJson(window),
		...checkCapacity(zones, window, Number(env.SUSTAINABLE_REPORTS_PER_SECOND), Date.now()),
	};
}

function conflict(ids: string[]): AppError {
	const named = ids.length > 0 ? `: ${ids.slice(0, 20).join(", ")}${ids.length > 20 ? ", …" : ""}` : "";
	return new AppError(409, "device_exists", `Devices already registered${named}. Nothing was registered.`, {
		device_ids: ids.slice(0, 1000),
	});
}

function noDevice(deviceId: string, extra = ""): AppError {
	return new AppError(404, "not_found", `No device ${deviceId}${extra ? ` ${extra}` : ""}.`);
}

function windowJson(w: { startMinute: number; durationMinutes: number }) {
	const hh = String(Math.floor(w.startMinute / 60)).padStart(2, "0");
	const mm = String(w.startMinute % 60).padStart(2, "0");
	return { start: `${hh}:${mm}`, duration_minutes: w.durationMinutes };
}

export function deviceJson(d: DeviceRow) {
	return {
		device_id: d.device_id,
		kind: d.kind,
		timezone: d.timezone,
		city: d.city,
		lat: d.lat,
		lng: d.lng,
		token_prefix: d.token_prefix,
		signed: d.signed === 1,
		created_at: iso(d.created_at),
		rotated_at: d.rotated_at === null ? null : iso(d.rotated_at),
		revoked_at: d.revoked_at === null ? null : iso(d.revoked_at),
	};
}

export { windowJson };

function iso(ms: number): string {
	return new Date(ms).toISOString();
}
