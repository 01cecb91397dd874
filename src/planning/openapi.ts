import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Planning's answers as schemas and its routes' OpenAPI descriptions. */

const iso = z.iso.datetime();
const ticketSchema = z
	.object({
		ticket_id: z.string(),
		machine_id: z.string(),
		reason: z.string(),
		day: z.string(),
		detail: z.string(),
		status: z.enum(["open", "closed"]),
		opened_at: iso,
		closed_at: iso.nullable(),
	})
	.meta({ id: "MaintenanceTicket" });

const planning = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Planning"], access: "tenant", ...doc }));

export const planningDocs = {
	plans: planning({
		summary: "Morning restock route plans, newest first",
		ok: {
			200: z.object({
				plans: z.array(
					z.object({
						city: z.string(),
						date: z.string(),
						timezone: z.string(),
						machines: z.number().int(),
						units: z.number().int(),
						stops: z.unknown().describe("The ordered stops with what to bring to each machine."),
						built_at: iso,
					}),
				),
			}),
		},
	}),
	tickets: planning({
		summary: "Maintenance tickets",
		ok: { 200: z.object({ tickets: z.array(ticketSchema), next_cursor: z.string().nullable() }) },
	}),
	closeTicket: planning({ summary: "Close a maintenance ticket", ok: { 200: ticketSchema }, errors: [404] }),
};
