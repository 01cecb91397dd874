import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { DEVICE_KINDS } from "./domain";

/** Devices' answers as schemas and its routes' OpenAPI descriptions (registry, slots, a device's own routes). */

const iso = z.iso.datetime();
const deviceSchema = z
	.object({
		device_id: z.string(),
		kind: z.enum(DEVICE_KINDS),
		timezone: z.string(),
		city: z.string(),
		lat: z.number().nullable(),
		lng: z.number().nullable(),
		token_prefix: z.string(),
		signed: z.boolean(),
		created_at: iso,
		rotated_at: iso.nullable(),
		revoked_at: iso.nullable(),
	})
	.meta({ id: "Device" });
const issuedSchema = z
	.object({
		device_id: z.string(),
		token: z.string().describe("The device token, shown once."),
		signing_secret: z.string().optional().describe("For devices that sign their requests; shown once."),
	})
	.meta({ id: "DeviceCredentials" });
const windowSchema = z
	.object({ start: z.string().describe("HH:MM, the machines' local time."), duration_minutes: z.number().int() })
	.meta({ id: "ReportWindow" });
const capacitySchema = z
	.object({
		window: windowSchema,
		devices: z.number().int(),
		sustainable_reports_per_second: z.number(),
		peak_reports_per_second: z.number(),
		sufficient: z.boolean(),
		required_window_minutes: z.number().int(),
		warning: z.string().nullable(),
	})
	.meta({ id: "ReportCapacity" });

const registry = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Devices"], access: "tenant", ...doc }));
const own = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Devices"], access: "device", ...doc }));

export const deviceDocs = {
	register: registry({ summary: "Register a device", ok: { 201: issuedSchema }, errors: [409] }),
	registerBulk: registry({
		summary: "Register up to 10,000 devices at once",
		ok: { 201: z.object({ devices: z.array(issuedSchema), capacity: capacitySchema }) },
		errors: [409],
	}),
	list: registry({
		summary: "List devices",
		ok: { 200: z.object({ devices: z.array(deviceSchema), next_cursor: z.string().nullable() }) },
	}),
	capacity: registry({ summary: "Whether the report window fits the fleet", ok: { 200: capacitySchema } }),
	window: registry({ summary: "The tenant's nightly report window", ok: { 200: windowSchema } }),
	setWindow: registry({
		summary: "Set the nightly report window",
		ok: { 200: z.object({ ...windowSchema.shape, capacity: capacitySchema }) },
	}),
	get: registry({ summary: "Read a device", ok: { 200: deviceSchema }, errors: [404] }),
	rotate: registry({ summary: "Issue new credentials, revoking the old", ok: { 200: issuedSchema }, errors: [404] }),
	revoke: registry({ summary: "Revoke a device", ok: { 200: deviceSchema }, errors: [404] }),
	schedule: own({
		summary: "A vending machine's next report slot",
		ok: {
			200: z.object({
				device_id: z.string(),
				timezone: z.string(),
				window: windowSchema,
				slot_offset_seconds: z.number().int(),
				next_report_at: iso,
			}),
		},
		errors: [404, 409],
	}),
	heartbeat: own({
		summary: "A device's liveness, answered with its next report time",
		ok: { 200: z.object({ device_id: z.string(), received_at: iso, next_report_at: iso.nullable() }) },
	}),
};
