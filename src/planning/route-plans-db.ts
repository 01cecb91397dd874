import { MISSED_REPORT } from "./maintenance";

/** A city with live vending machines, and the zone its plan is dated in. */
export type PlanCity = { tenant_id: string; city: string; timezone: string };
export type RestockNeedRow = { machine_id: string; slot: string; sku: string; quantity: number };
export type PlanRow = {
	city: string;
	plan_date: string;
	timezone: string;
	machines: number;
	units: number;
	stops: string;
	built_at: number;
};
export type NewRoutePlan = {
	tenantId: string;
	city: string;
	date: string;
	timezone: string;
	machines: number;
	units: number;
	/** The plan's stops as JSON. */
	stops: string;
	builtAt: number;
};
/** One missed-report check: the tenant's machines in one zone, for one night. */
export type MissedReportCheck = {
	tenantId: string;
	timezone: string;
	date: string;
	detail: string;
	now: number;
	windowStart: number;
};

/** Statements per D1 batch for the missed-report check. */
const MISSED_REPORT_BATCH = 50;

export async function listPlanCities(db: D1Database): Promise<PlanCity[]> {
	const { results } = await db
		.prepare(
			`SELECT d.tenant_id, d.city, MIN(d.timezone) AS timezone FROM devices d
			 WHERE d.kind = 'vending' AND d.revoked_at IS NULL GROUP BY d.tenant_id, d.city`,
		)
		.all<PlanCity>();
	return results;
}

export async function routePlanExists(db: D1Database, tenantId: string, city: string, date: string): Promise<boolean> {
	const row = await db
		.prepare("SELECT 1 AS x FROM route_plans WHERE tenant_id = ? AND city = ? AND plan_date = ?")
		.bind(tenantId, city, date)
		.first<{ x: number }>();
	return row !== null;
}

/** The city's live machines' restock needs, by machine and slot. */
export async function listCityRestockNeeds(db: D1Database, tenantId: string, city: string): Promise<RestockNeedRow[]> {
	const { results } = await db
		.prepare(
			`SELECT n.machine_id, n.slot, n.sku, n.quantity FROM restock_needs n
			 JOIN devices d ON d.tenant_id = n.tenant_id AND d.device_id = n.machine_id
			 WHERE n.tenant_id = ? AND d.city = ? AND d.revoked_at IS NULL ORDER BY n.machine_id, n.slot`,
		)
		.bind(tenantId, city)
		.all<RestockNeedRow>();
	return results;
}

/** Stores a plan unless the city already has one for that date; true when this call stored it. */
export async function insertRoutePlan(db: D1Database, plan: NewRoutePlan): Promise<boolean> {
	const inserted = await db
		.prepare(
			`INSERT INTO route_plans (tenant_id, city, plan_date, timezone, machines, units, stops, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (tenant_id, city, plan_date) DO NOTHING`,
		)
		.bind(plan.tenantId, plan.city, plan.date, plan.timezone, plan.machines, plan.units, plan.stops, plan.builtAt)
		.run();
	return inserted.meta.changes > 0;
}

export async function listRoutePlans(
	db: D1Database,
	tenantId: string,
	filter: { city?: string; date?: string },
	limit: number,
): Promise<PlanRow[]> {
	const { results } = await db
		.prepare(
			`SELECT city, plan_date, timezone, machines, units, stops, built_at FROM route_plans
			 WHERE tenant_id = ?1 AND (?2 IS NULL OR city = ?2) AND (?3 IS NULL OR plan_date = ?3) ORDER BY plan_date DESC, city LIMIT ?4`,
		)
		.bind(tenantId, filter.city ?? null, filter.date ?? null, limit)
		.all<PlanRow>();
	return results;
}

/** The (tenant, time zone) groups of live vending machines, for the missed-report check. */
export async function listVendingZones(db: D1Database): Promise<{ tenant_id: string; timezone: string }[]> {
	const { results } = await db
		.prepare("SELECT DISTINCT tenant_id, timezone FROM devices WHERE kind = 'vending' AND revoked_at IS NULL")
		.all<{ tenant_id: string; timezone: string }>();
	return results;
}

/**
 * One INSERT … SELECT per check: machines registered before the night's window and with no
 * report for that night (or later) get a "missed_report" ticket for it (one per machine and night).
 */
export async function openMissedReportTickets(
	db: D1Database,
	checks: readonly MissedReportCheck[],
): Promise<NewMissedReportTicket[]> {
	const statements = checks.map((check) =>
		db
			.prepare(
				`INSERT INTO maintenance_tickets (id, tenant_id, machine_id, reason, day, detail, status, opened_at)
				 SELECT 'tkt_' || lower(hex(randomblob(12))), d.tenant_id, d.device_id, '${MISSED_REPORT}', ?3, ?4, 'open', ?5
				 FROM devices d LEFT JOIN device_last_report r ON r.tenant_id = d.tenant_id AND r.device_id = d.device_id
				 WHERE d.tenant_id = ?1 AND d.timezone = ?2 AND d.kind = 'vending' AND d.revoked_at IS NULL AND d.created_at < ?6
				   AND (r.report_date IS NULL OR r.report_date < ?3)
				 ON CONFLICT (tenant_id, machine_id, reason, day) DO NOTHING
				 RETURNING id, tenant_id, machine_id, day`,
			)
			.bind(check.tenantId, check.timezone, check.date, check.detail, check.now, check.windowStart),
	);
	const opened: NewMissedReportTicket[] = [];
	for (let i = 0; i < statements.length; i += MISSED_REPORT_BATCH) {
		for (const result of await db.batch<NewMissedReportTicket>(statements.slice(i, i + MISSED_REPORT_BATCH)))
			opened.push(...result.results);
	}
	return opened;
}

/** A ticket a missed-report check opened (for the device.missed_report webhook). */
export type NewMissedReportTicket = { id: string; tenant_id: string; machine_id: string; day: string };
