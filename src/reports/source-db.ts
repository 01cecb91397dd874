import type { FinishedJob } from "./job-latency";
import type { DecisionMinute } from "./ratelimit-decisions";
import type { TruckPoint } from "./truck-distance";

/** Reads of the data reports are computed from: every query bounded by LIMIT and an index range. */

/** Trucks of a tenant after `after` (its latest-position table holds one row per truck). */
export async function listTrucks(db: D1Database, tenantId: string, after: string, limit: number): Promise<string[]> {
	const { results } = await db
		.prepare("SELECT truck_id FROM truck_positions WHERE tenant_id = ? AND truck_id > ? ORDER BY truck_id LIMIT ?")
		.bind(tenantId, after, limit)
		.all<{ truck_id: string }>();
	return results.map((r) => r.truck_id);
}

/** One truck's points in (after, endMs), oldest first: a range of the primary key. */
export async function readTruckPoints(
	db: D1Database,
	tenantId: string,
	truckId: string,
	after: number,
	endMs: number,
	limit: number,
): Promise<TruckPoint[]> {
	const { results } = await db
		.prepare(
			`SELECT recorded_at, lat, lng FROM truck_locations
 WHERE tenant_id = ? AND truck_id = ? AND recorded_at > ? AND recorded_at < ? ORDER BY recorded_at LIMIT ?`,
		)
		.bind(tenantId, truckId, after, endMs, limit)
		.all<TruckPoint>();
	return results;
}

/** Jobs that finished in [startMs, endMs) after the (completed_at, id) position, in that order. */
export async function readFinishedJobs(
	db: D1Database,
	tenantId: string,
	startMs: number,
	endMs: number,
	after: { at: number; id: string } | null,
	limit: number,
): Promise<(FinishedJob & { id: string })[]> {
	const at = after?.at ?? startMs - 1;
	const id = after?.id ?? "";
	const { results } = await db
		.prepare(
			`SELECT id, type, status, created_at, started_at, completed_at FROM jobs
 WHERE tenant_id = ? AND completed_at >= ? AND completed_at < ? AND (completed_at > ? OR (completed_at = ? AND id > ?))
 ORDER BY completed_at, id LIMIT ?`,
		)
		.bind(tenantId, startMs, endMs, at, at, id, limit)
		.all<FinishedJob & { id: string }>();
	return results;
}

export type MachineReportPair = {
	machine_id: string;
	inventory: string;
	prev_inventory: string | null;
	city: string | null;
};

/** Each machine's report of `day` with the one of the day before and the machine's city. */
export async function readMachineDays(
	db: D1Database,
	tenantId: string,
	day: string,
	previousDay: string,
	afterMachine: string,
	limit: number,
): Promise<MachineReportPair[]> {
	const { results } = await db
		.prepare(
			`SELECT cur.machine_id, cur.inventory, prev.inventory AS prev_inventory, d.city
 FROM machine_reports cur
 LEFT JOIN machine_reports prev ON prev.tenant_id = cur.tenant_id AND prev.machine_id = cur.machine_id AND prev.report_date = ?
 LEFT JOIN devices d ON d.tenant_id = cur.tenant_id AND d.device_id = cur.machine_id
 WHERE cur.tenant_id = ? AND cur.report_date = ? AND cur.machine_id > ?
 ORDER BY cur.machine_id LIMIT ?`,
		)
		.bind(previousDay, tenantId, day, afterMachine, limit)
		.all<MachineReportPair>();
	return results;
}

/** A tenant's per-minute limiter decisions in [startMs, endMs) after a (minute, resource, key) position. */
export async function readDecisionMinutes(
	db: D1Database,
	tenantId: string,
	startMs: number,
	endMs: number,
	after: { minute: number; resource: string; key: string } | null,
	limit: number,
): Promise<DecisionMinute[]> {
	const { results } = await db
		.prepare(
			`SELECT minute, resource, limit_key, allowed, rejected FROM ratelimit_decisions
 WHERE tenant_id = ? AND minute >= ? AND minute < ? AND (minute, resource, limit_key) > (?, ?, ?)
 ORDER BY minute, resource, limit_key LIMIT ?`,
		)
		.bind(tenantId, startMs, endMs, after?.minute ?? startMs - 1, after?.resource ?? "", after?.key ?? "", limit)
		.all<DecisionMinute>();
	return results;
}
