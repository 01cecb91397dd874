import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import type { TicketRow } from "./db";
import { closeTicket, listTickets } from "./db";
import { listRoutePlans } from "./route-plans-db";
import { deviceIdSchema } from "../devices/domain";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { planningDocs as docs } from "./openapi";

const DATE = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "YYYY-MM-DD");
const plansQuery = z.object({
	city: z.string().trim().min(1).max(100).optional(),
	date: DATE.optional(),
	limit: z.coerce.number().int().min(1).max(100).default(20),
});
const ticketsQuery = z.object({
	status: z.enum(["open", "closed"]).optional(),
	machine_id: deviceIdSchema.optional(),
	limit: z.coerce.number().int().min(1).max(500).default(100),
	cursor: z
		.string()
		.regex(/^tkt_[0-9a-f]{24}$/)
		.optional(),
});
const ticketParams = z.object({ ticketId: z.string().regex(/^tkt_[0-9a-f]{24}$/, "not a ticket id") });

/** Morning route plans built by the cron, newest first (tenant API key). */
export const restockRoutes = new Hono<AppEnv>().get("/plans", docs.plans, validate("query", plansQuery), async (c) => {
	const { city, date, limit } = c.req.valid("query");
	const results = await listRoutePlans(c.env.DB, c.get("principal").tenantId, { city, date }, limit);
	return c.json({
		plans: results.map((p) => ({
			city: p.city,
			date: p.plan_date,
			timezone: p.timezone,
			machines: p.machines,
			units: p.units,
			// Written only by buildRoutePlans from typed rows.
			stops: JSON.parse(p.stops) as unknown,
			built_at: new Date(p.built_at).toISOString(),
		})),
	});
});

/** Maintenance tickets opened by reports and by the missed-report check (tenant API key). */
export const maintenanceRoutes = new Hono<AppEnv>()
	.get("/tickets", docs.tickets, validate("query", ticketsQuery), async (c) => {
		const { status, machine_id, limit, cursor } = c.req.valid("query");
		const rows = await listTickets(
			c.env.DB,
			c.get("principal").tenantId,
			{ ...(status ? { status } : {}), ...(machine_id ? { machineId: machine_id } : {}) },
			limit,
			cursor ?? null,
		);
		return c.json({
			tickets: rows.map(ticketJson),
			next_cursor: rows.length === limit ? (rows.at(-1)?.id ?? null) : null,
		});
	})
	.post("/tickets/:ticketId/close", docs.closeTicket, validate("param", ticketParams), async (c) => {
		const { ticketId } = c.req.valid("param");
		const row = await closeTicket(c.env.DB, c.get("principal").tenantId, ticketId, Date.now());
		if (!row) throw new AppError(404, "not_found", `No ticket ${ticketId}.`);
		return c.json(ticketJson(row));
	});

function ticketJson(t: TicketRow) {
	return {
		ticket_id: t.id,
		machine_id: t.machine_id,
		reason: t.reason,
		day: t.day,
		detail: t.detail,
		status: t.status,
		opened_at: new Date(t.opened_at).toISOString(),
		closed_at: t.closed_at === null ? null : new Date(t.closed_at).toISOString(),
	};
}
