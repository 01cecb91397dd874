import type { SqlStatement } from "../platform/sql-db";

export type PositionRow = {
	truck_id: string;
	recorded_at: number;
	lat: number;
	lng: number;
	speed_kmh: number | null;
	heading: number | null;
	colo: string | null;
	country: string | null;
	received_at: number;
};

export type MachineStatusRow = {
	machine_id: string;
	report_date: string;
	inventory: string;
	cash_cents: number;
	temperature_c: number;
	error_codes: string;
	firmware: string;
	colo: string | null;
	country: string | null;
	received_at: number;
};

const POSITION_FIELDS = "truck_id, recorded_at, lat, lng, speed_kmh, heading, colo, country, received_at";

/** Runs planned statements as one D1 batch: one transaction, all or nothing. */
export async function runStatements(db: D1Database, statements: readonly SqlStatement[]): Promise<void> {
	if (statements.length === 0) return;
	await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

export async function listTruckPositions(
	db: D1Database,
	tenantId: string,
	limit: number,
	afterTruckId: string,
): Promise<PositionRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${POSITION_FIELDS} FROM truck_positions WHERE tenant_id = ? AND truck_id > ? ORDER BY truck_id LIMIT ?`,
		)
		.bind(tenantId, afterTruckId, limit)
		.all<PositionRow>();
	return results;
}

/** Points of one truck with from <= recorded_at < to, after the cursor, oldest first. */
export async function listTrack(
	db: D1Database,
	q: { tenantId: string; truckId: string; from: number; to: number; after: number | null; limit: number },
): Promise<PositionRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${POSITION_FIELDS} FROM truck_locations
 WHERE tenant_id = ? AND truck_id = ? AND recorded_at >= ? AND recorded_at < ? AND recorded_at > ?
 ORDER BY recorded_at LIMIT ?`,
		)
		.bind(q.tenantId, q.truckId, q.from, q.to, q.after ?? Number.MIN_SAFE_INTEGER, q.limit)
		.all<PositionRow>();
	return results;
}

export async function findMachineStatus(
	db: D1Database,
	tenantId: string,
	machineId: string,
): Promise<MachineStatusRow | null> {
	return db
		.prepare(
			`SELECT machine_id, report_date, inventory, cash_cents, temperature_c, error_codes, firmware, colo, country, received_at
 FROM machine_status WHERE tenant_id = ? AND machine_id = ?`,
		)
		.bind(tenantId, machineId)
		.first<MachineStatusRow>();
}
