import { deleteOldestRows } from "../platform/sql-db";
/**
 * Retention of telemetry points (src/telemetry/retention.ts): the oldest points by when the
 * platform received them, at most `limit` per statement. truck_positions and machine_status (each
 * truck's and machine's latest state) are kept: they are current state, not history.
 */

export async function purgeExpiredTruckLocations(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "truck_locations", "received_at", cutoff, limit);
}

export async function purgeExpiredMachineReports(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "machine_reports", "received_at", cutoff, limit);
}
