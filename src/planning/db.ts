import type { TemperatureRange } from "./maintenance";
import { DEFAULT_TEMPERATURE_RANGE, MISSED_REPORT, ticketsForReport } from "./maintenance";
import type { InventoryLine, RestockThresholds } from "./restock";
import { DEFAULT_RESTOCK_THRESHOLDS, planRestock } from "./restock";

/** What planning needs of a machine's daily report (the ingest consumer's validated message fits). */
export type PlanningReport = {
	machine_id: string;
	/** The machine's local date of the night reported (YYYY-MM-DD). */
	report_date: string;
	inventory: readonly InventoryLine[];
	temperature_c?: number | null;
	error_codes?: readonly string[] | null;
};

export type PlanningOptions = { thresholds?: RestockThresholds; temperature?: TemperatureRange; now?: number };

/**
 * Applies one report to the planning tables in one D1 batch (one transaction): the machine's
 * restock needs are replaced, tickets opened (deduped per machine, reason and day), a missed-report
 * ticket for that night closed, and the machine's last report date kept. Idempotent: applying the
 * same report again changes nothing; a report older than one already applied does not replace its
 * needs. Rows travel as JSON (json_each), so each statement binds a handful of parameters.
 */
export async function applyReportToPlanning(
	db: D1Database,
	tenantId: string,
	report: PlanningReport,
	options: PlanningOptions = {},
): Promise<{ needs: number; tickets: number }> {
	const planned = planningStatements(db, tenantId, report, options);
	await db.batch(planned.statements);
	return { needs: planned.needs, tickets: planned.tickets };
}

/**
 * `applyReportToPlanning` for the reports of one consumer batch, in one D1 batch. The five
 * statements of each report stay together and in order.
 */
export async function applyReportsToPlanning(
	db: D1Database,
	reports: readonly { tenantId: string; report: PlanningReport }[],
	options: PlanningOptions = {},
): Promise<void> {
	const statements = reports.flatMap((r) => planningStatements(db, r.tenantId, r.report, options).statements);
	if (statements.length > 0) await db.batch(statements);
}

/**
 * The statements of `applyReportToPlanning` without running them, for a consumer that wants them
 * in its own DB.batch (after the report's own rows, so one transaction covers both). Keep the
 * five statements together and in this order.
 */
export function planningStatements(
	db: D1Database,
	tenantId: string,
	report: PlanningReport,
	options: PlanningOptions = {},
): { statements: D1PreparedStatement[]; needs: number; tickets: number } {
	const now = options.now ?? Date.now();
	const needs = planRestock(report.inventory, options.thresholds ?? DEFAULT_RESTOCK_THRESHOLDS);
	const tickets = ticketsForReport(report, options.temperature ?? DEFAULT_TEMPERATURE_RANGE);
	const machine = report.machine_id;
	const notSuperseded =
		"NOT EXISTS (SELECT 1 FROM device_last_report WHERE tenant_id = ?1 AND device_id = ?2 AND report_date > ?3)";
	const statements = [
		db
			.prepare(`DELETE FROM restock_needs WHERE tenant_id = ?1 AND machine_id = ?2 AND ${notSuperseded}`)
			.bind(tenantId, machine, report.report_date),
		db
			.prepare(
				`INSERT INTO restock_needs (tenant_id, machine_id, slot, sku, count, capacity, quantity, report_date)
				 SELECT ?1, ?2, value ->> '$.slot', value ->> '$.sku', value ->> '$.count', value ->> '$.capacity', value ->> '$.quantity', ?3
				 FROM json_each(?4) WHERE ${notSuperseded}`,
			)
			.bind(tenantId, machine, report.report_date, JSON.stringify(needs)),
		db
			.prepare(
				`INSERT INTO maintenance_tickets (id, tenant_id, machine_id, reason, day, detail, status, opened_at)
				 SELECT 'tkt_' || lower(hex(randomblob(12))), ?1, ?2, value ->> '$.reason', ?3, value ->> '$.detail', 'open', ?4
				 FROM json_each(?5) WHERE true
				 ON CONFLICT (tenant_id, machine_id, reason, day) DO NOTHING`,
			)
			.bind(tenantId, machine, report.report_date, now, JSON.stringify(tickets)),
		db
			.prepare(
				`UPDATE maintenance_tickets SET status = 'closed', closed_at = ?4 WHERE tenant_id = ?1 AND machine_id = ?2 AND reason = '${MISSED_REPORT}' AND day <= ?3 AND status = 'open'`,
			)
			.bind(tenantId, machine, report.report_date, now),
		db
			.prepare(
				`INSERT INTO device_last_report (tenant_id, device_id, report_date, reported_at) VALUES (?1, ?2, ?3, ?4)
				 ON CONFLICT (tenant_id, device_id) DO UPDATE SET
				   reported_at = CASE WHEN excluded.report_date >= report_date THEN excluded.reported_at ELSE reported_at END,
				   report_date = max(report_date, excluded.report_date)`,
			)
			.bind(tenantId, machine, report.report_date, now),
	];
	return { statements, needs: needs.length, tickets: tickets.length };
}

export type TicketRow = {
	id: string;
	machine_id: string;
	reason: string;
	day: string;
	detail: string;
	status: "open" | "closed";
	opened_at: number;
	closed_at: number | null;
};

export async function listTickets(
	db: D1Database,
	tenantId: string,
	filter: { status?: "open" | "closed"; machineId?: string },
	limit: number,
	after: string | null,
): Promise<TicketRow[]> {
	const { results } = await db
		.prepare(
			`SELECT id, machine_id, reason, day, detail, status, opened_at, closed_at FROM maintenance_tickets
			 WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR machine_id = ?3) AND id > ?4 ORDER BY id LIMIT ?5`,
		)
		.bind(tenantId, filter.status ?? null, filter.machineId ?? null, after ?? "", limit)
		.all<TicketRow>();
	return results;
}

export async function closeTicket(
	db: D1Database,
	tenantId: string,
	id: string,
	now: number,
): Promise<TicketRow | null> {
	return db
		.prepare(
			`UPDATE maintenance_tickets SET status = 'closed', closed_at = COALESCE(closed_at, ?3) WHERE tenant_id = ?1 AND id = ?2
			 RETURNING id, machine_id, reason, day, detail, status, opened_at, closed_at`,
		)
		.bind(tenantId, id, now)
		.first<TicketRow>();
}
