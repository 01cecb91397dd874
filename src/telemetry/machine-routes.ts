import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { findMachineStatus } from "./db";
import { deviceId, reportSchema } from "./domain";
import { AppError } from "../platform/errors";
import { admitTelemetry, edgeMeta, messageId, parseTelemetry } from "./ingest";
import { assertActsAs } from "../devices/middleware";
import { reportTimingFor } from "../devices/slots/service";
import { validate } from "../platform/validation";
import { telemetryDocs } from "./openapi";

const machineParams = z.object({ machineId: deviceId });

/** Vending machines: the nightly status report in, the latest status out. */
export const machineRoutes = new Hono<AppEnv>()
	.post("/:machineId/reports", telemetryDocs.machineReport, validate("param", machineParams), async (c) => {
		const { machineId } = c.req.valid("param");
		assertActsAs(c, machineId);
		const report = await parseTelemetry(c, reportSchema, () => 1);
		await admitTelemetry(c, [{ ...edgeMeta(c), id: messageId(), kind: "report", machine_id: machineId, report }], 1);
		// Data first: a report outside its slot is accepted, and every answer names the next slot
		// (absent for machines not in the device registry).
		const timing = await reportTimingFor(c.env.DB, c.get("principal").tenantId, machineId);
		return c.json({ accepted: true, ...timing }, 202);
	})
	.get("/:machineId", telemetryDocs.machineStatus, validate("param", machineParams), async (c) => {
		const { machineId } = c.req.valid("param");
		assertActsAs(c, machineId);
		const row = await findMachineStatus(c.env.DB, c.get("principal").tenantId, machineId);
		if (!row) throw new AppError(404, "not_found", `No report from machine ${machineId} yet.`);
		return c.json({
			machine_id: row.machine_id,
			report_date: row.report_date,
			inventory: JSON.parse(row.inventory) as unknown,
			cash_cents: row.cash_cents,
			temperature_c: row.temperature_c,
			error_codes: JSON.parse(row.error_codes) as unknown,
			firmware: row.firmware,
			colo: row.colo,
			country: row.country,
			received_at: new Date(row.received_at).toISOString(),
		});
	});
