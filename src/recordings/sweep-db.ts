import type { StageRow } from "./db";

/** D1 access of the stuck-stage sweeper (src/recordings/sweeper.ts; migrations/0033). */

/**
 * Running stages nobody advanced or looked at since `before`, least recently looked at first, so
 * long healthy stages (a 60-minute transcode) do not hide stuck ones behind them.
 */
export async function findStagesToSweep(db: D1Database, before: number, limit: number): Promise<StageRow[]> {
	const { results } = await db
		.prepare(
			`SELECT * FROM recording_stages WHERE status = 'running' AND COALESCE(swept_at, updated_at) < ?
			 ORDER BY COALESCE(swept_at, updated_at) LIMIT ?`,
		)
		.bind(before, limit)
		.all<StageRow>();
	return results;
}

/** Notes that the sweeper looked at a stage (not a change of the stage: its version stays). */
export async function markSwept(db: D1Database, recordingId: string, stage: string, now: number): Promise<void> {
	await db
		.prepare("UPDATE recording_stages SET swept_at = ? WHERE recording_id = ? AND stage = ?")
		.bind(now, recordingId, stage)
		.run();
}

/** The finished units of a stage. */
export async function doneUnits(db: D1Database, recordingId: string, stage: string): Promise<Set<number>> {
	const { results } = await db
		.prepare("SELECT unit FROM recording_units WHERE recording_id = ? AND stage = ?")
		.bind(recordingId, stage)
		.all<{ unit: number }>();
	return new Set(results.map((r) => r.unit));
}

/** Compare-and-set: counts one repair of the stage (true when this write won). */
export async function countRepair(db: D1Database, row: StageRow, now: number): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE recording_stages SET repairs = repairs + 1, version = version + 1, updated_at = ?
			 WHERE recording_id = ? AND stage = ? AND version = ?`,
		)
		.bind(now, row.recording_id, row.stage, row.version)
		.run();
	return result.meta.changes === 1;
}
