import { customReportWindows } from "../devices/slots/service";
import type { MissedReportCheck, PlanCity, RestockNeedRow } from "./route-plans-db";
import {
	insertRoutePlan,
	listCityRestockNeeds,
	listPlanCities,
	listVendingZones,
	openMissedReportTickets,
	routePlanExists,
} from "./route-plans-db";
import type { ReportWindow } from "../devices/slots/domain";
import { DEFAULT_REPORT_WINDOW, windowEndOf } from "../devices/slots/domain";
import { addDays, localDateAt, wallTimeAt } from "../platform/time-zones";
import { publishEvent } from "../webhooks/service";

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
	const windows = await customReportWindows(env.DB);
	const missed = await checkMissedReports(env, windows, graceMs, now);

	const cities = await listPlanCities(env.DB);
	let built = 0;
	let checked = 0;
	for (const city of cities) {
		if (wallTimeAt(city.timezone, now).hour < planHour) continue;
		if (checked++ >= MAX_CITIES_PER_RUN) break;
		if (await buildCityPlan(env.DB, city, localDateAt(city.timezone, now), now)) built += 1;
	}
	return { plans_built: built, cities_checked: checked, missed_report_checks: missed };
}

/** Groups a city's restock needs into one stop per machine, in the rows' order. */
function planStops(needs: readonly RestockNeedRow[]): PlanStop[] {
	const stops: PlanStop[] = [];
	for (const row of needs) {
		let stop = stops.at(-1);
		if (stop?.machine_id !== row.machine_id) {
			stop = { machine_id: row.machine_id, items: [] };
			stops.push(stop);
		}
		stop.items.push({ slot: row.slot, sku: row.sku, quantity: row.quantity });
	}
	return stops;
}

/** Builds and stores one city's plan for a local date unless it exists; true when it built one. */
async function buildCityPlan(db: D1Database, city: PlanCity, date: string, now: number): Promise<boolean> {
	if (await routePlanExists(db, city.tenant_id, city.city, date)) return false;
	const needs = await listCityRestockNeeds(db, city.tenant_id, city.city);
	const stops = planStops(needs);
	return insertRoutePlan(db, {
		tenantId: city.tenant_id,
		city: city.city,
		date,
		timezone: city.timezone,
		machines: stops.length,
		units: needs.reduce((sum, r) => sum + r.quantity, 0),
		stops: JSON.stringify(stops),
		builtAt: now,
	});
}

/**
 * One missed-report check per (tenant, time zone) whose last night (plus grace) has closed.
 * Returns the groups checked.
 */
async function checkMissedReports(
	env: Env,
	windows: Map<string, ReportWindow>,
	graceMs: number,
	now: number,
): Promise<number> {
	const checks: MissedReportCheck[] = [];
	for (const group of await listVendingZones(env.DB)) {
		const window = windows.get(group.tenant_id) ?? DEFAULT_REPORT_WINDOW;
		const night = lastClosedNight(group.timezone, window, graceMs, now);
		if (!night) continue;
		checks.push({
			tenantId: group.tenant_id,
			timezone: group.timezone,
			date: night.date,
			detail: `No report for the night of ${night.date} by the end of its window plus grace.`,
			now,
			windowStart: night.windowStart,
		});
	}
	const opened = await openMissedReportTickets(env.DB, checks);
	// device.missed_report webhooks, one per new ticket (publishEvent never throws).
	for (const t of opened) {
		await publishEvent(env, t.tenant_id, "device.missed_report", {
			ticket_id: t.id,
			machine_id: t.machine_id,
			day: t.day,
		});
	}
	return checks.length;
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
