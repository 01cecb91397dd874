import { listReportWindows } from "../devices/slots/db";
import { MISSED_REPORT } from "./maintenance";
import type { ReportWindow } from "../devices/slots/domain";
import { DEFAULT_REPORT_WINDOW, windowEndOf } from "../devices/slots/domain";
import { addDays, localDateAt, wallTimeAt } from "../platform/time-zones";

/**
 * The cron's work (every 15 minutes): in each city's own time zone, once the local morning has
 * come, build that day's route plan from the machines' current restock needs; and open a
 * "missed_report" ticket for every machine whose last night's window (plus grace) ended without
 * its report. Both are idempotent (a plan per city and date, a ticket per machine, reason and
 * night), so overlapping or repeated runs change nothing.
 */

export type RoutePlanRun = { plans_built: number; cities_checked: number; missed_report_checks: number };
export type PlanStop = { machine_id: string; items: { slot: string; sku: string; quantity: number }[] };

/** Cities handled per run; the rest are picked up 15 minutes later (D1 allows 1,000 queries per invocation). */
const MAX_CITIES_PER_RUN = 200;

export async function buildRoutePlans(env: Env, now: number): Promise<RoutePlanRun> {
	const planHour = Number(env.ROUTE_PLAN_HOUR);
	const graceMs = Number(env.MISSED_REPORT_GRACE_MINUTES) * 60_000;
	const windows = await listReportWindows(env.DB);
	const missed = await openMissedReportTickets(env.DB, windows, graceMs, now);

	const { results: cities } = await env.DB.prepare(
		`SELECT d.tenant_id, d.city, MIN(d.timezone) AS timezone FROM devices d
		 WHERE d.kind = 'vending' AND d.revoked_at IS NULL GROUP BY d.tenant_id, d.city`,
	).all<{ tenant_id: string; city: string; timezone: string }>();
	let built = 0;
	let checked = 0;
	for (const city of cities) {
		if (wallTimeAt(city.timezone, now).hour < planHour) continue;
		if (checked++ >= MAX_CITIES_PER_RUN) break;
		if (await buildCityPlan(env.DB, city.tenant_id, city.city, city.timezone, localDateAt(city.timezone, now), now))
			built += 1;
	}
	return { plans_built: built, cities_checked: checked, missed_report_checks: missed };
}

/** Builds and stores one city's plan for a local date unless it exists; true when it built one. */
async function buildCityPlan(
	db: D1Database,
	tenantId: string,
	city: string,
	timezone: string,
	date: string,
	now: number,
): Promise<boolean> {
	const exists = await db
		.prepare("SELECT 1 AS x FROM route_plans WHERE tenant_id = ? AND city = ? AND plan_date = ?")
		.bind(tenantId, city, date)
		.first();
	if (exists) return false;
	const { results } = await db
		.prepare(
			`SELECT n.machine_id, n.slot, n.sku, n.quantity FROM restock_needs n
			 JOIN devices d ON d.tenant_id = n.tenant_id AND d.device_id = n.machine_id
			 WHERE n.tenant_id = ? AND d.city = ? AND d.revoked_at IS NULL ORDER BY n.machine_id, n.slot`,
		)
		.bind(tenantId, city)
		.all<{ machine_id: string; slot: string; sku: string; quantity: number }>();
	const stops: PlanStop[] = [];
	for (const row of results) {
		let stop = stops.at(-1);
		if (stop?.machine_id !== row.machine_id) {
			stop = { machine_id: row.machine_id, items: [] };
			stops.push(stop);
		}
		stop.items.push({ slot: row.slot, sku: row.sku, quantity: row.quantity });
	}
	const units = results.reduce((sum, r) => sum + r.quantity, 0);
	const inserted = await db
		.prepare(
			`INSERT INTO route_plans (tenant_id, city, plan_date, timezone, machines, units, stops, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (tenant_id, city, plan_date) DO NOTHING`,
		)
		.bind(tenantId, city, date, timezone, stops.length, units, JSON.stringify(stops), now)
		.run();
	return inserted.meta.changes > 0;
}

/**
 * One INSERT … SELECT per (tenant, time zone): machines registered before the night's window and
 * with no report for that night (or later) get a ticket for it. Returns the groups checked.
 */
async function openMissedReportTickets(
	db: D1Database,
	windows: Map<string, ReportWindow>,
	graceMs: number,
	now: number,
): Promise<number> {
	const { results: groups } = await db
		.prepare("SELECT DISTINCT tenant_id, timezone FROM devices WHERE kind = 'vending' AND revoked_at IS NULL")
		.all<{ tenant_id: string; timezone: string }>();
	const statements: D1PreparedStatement[] = [];
	for (const group of groups) {
		const window = windows.get(group.tenant_id) ?? DEFAULT_REPORT_WINDOW;
		const night = lastClosedNight(group.timezone, window, graceMs, now);
		if (!night) continue;
		statements.push(
			db
				.prepare(
					`INSERT INTO maintenance_tickets (id, tenant_id, machine_id, reason, day, detail, status, opened_at)
					 SELECT 'tkt_' || lower(hex(randomblob(12))), d.tenant_id, d.device_id, '${MISSED_REPORT}', ?3, ?4, 'open', ?5
					 FROM devices d LEFT JOIN device_last_report r ON r.tenant_id = d.tenant_id AND r.device_id = d.device_id
					 WHERE d.tenant_id = ?1 AND d.timezone = ?2 AND d.kind = 'vending' AND d.revoked_at IS NULL AND d.created_at < ?6
					   AND (r.report_date IS NULL OR r.report_date < ?3)
					 ON CONFLICT (tenant_id, machine_id, reason, day) DO NOTHING`,
				)
				.bind(
					group.tenant_id,
					group.timezone,
					night.date,
					`No report for the night of ${night.date} by the end of its window plus grace.`,
					now,
					night.windowStart,
				),
		);
	}
	for (let i = 0; i < statements.length; i += 50) await db.batch(statements.slice(i, i + 50));
	return statements.length;
}

/** The latest night whose window plus grace has ended by `now`, in the zone's local dates. */
export function lastClosedNight(
	timezone: string,
	window: ReportWindow,
	graceMs: number,
	now: number,
): { date: string; windowStart: number } | null {
	const today = localDateAt(timezone, now);
	for (const d of [0, -1, -2]) {
		const date = addDays(today, d);
		const end = windowEndOf(timezone, window, date);
		if (end + graceMs <= now) return { date, windowStart: end - window.durationMinutes * 60_000 };
	}
	return null;
}
