/**
 * Retention of telemetry points (src/telemetry/retention.ts): the oldest points by when the
 * platform received them, at most `limit` per statement. truck_positions and machine_status (each
 * truck's and machine's latest state) are kept: they are current state, not history.
 */

export async function purgeExpiredTruckLocations(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			"DELETE FROM truck_locations WHERE rowid IN (SELECT rowid FROM truck_locations WHERE received_at < ? ORDER BY received_at LIMIT ?)",
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

export async function purgeExpiredMachineReports(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			"DELETE FROM machine_reports WHERE rowid IN (SELECT rowid FROM machine_reports WHERE received_at < ? ORDER BY received_at LIMIT ?)",
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}
