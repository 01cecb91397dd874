export type ScheduleRow = {
	id: string;
	tenant_id: string;
	cron: string;
	timezone: string;
	job: string;
	paused: number;
	next_run_at: number | null;
	last_run_at: number | null;
	created_at: number;
};

/**
 * Inserts a schedule unless the tenant already holds `cap` of them (one statement, so concurrent
 * creates cannot overshoot). False when the cap was reached.
 */
export async function insertSchedule(db: D1Database, row: ScheduleRow, cap: number): Promise<boolean> {
	const res = await db
		.prepare(
			`INSERT INTO job_schedules (id, tenant_id, cron, timezone, job, paused, next_run_at, last_run_at, created_at)
			 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE (SELECT COUNT(*) FROM job_schedules WHERE tenant_id = ?2) < ?10`,
		)
		.bind(
			row.id,
			row.tenant_id,
			row.cron,
			row.timezone,
			row.job,
			row.paused,
			row.next_run_at,
			row.last_run_at,
			row.created_at,
			cap,
		)
		.run();
	return res.meta.changes > 0;
}

export async function findSchedule(db: D1Database, tenantId: string, id: string): Promise<ScheduleRow | null> {
	return db
		.prepare("SELECT * FROM job_schedules WHERE id = ? AND tenant_id = ?")
		.bind(id, tenantId)
		.first<ScheduleRow>();
}

export async function findScheduleById(db: D1Database, id: string): Promise<ScheduleRow | null> {
	return db.prepare("SELECT * FROM job_schedules WHERE id = ?").bind(id).first<ScheduleRow>();
}

export async function listSchedules(db: D1Database, tenantId: string): Promise<ScheduleRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM job_schedules WHERE tenant_id = ? ORDER BY created_at LIMIT 1000")
		.bind(tenantId)
		.all<ScheduleRow>();
	return results;
}

export async function updateScheduleRun(
	db: D1Database,
	id: string,
	fields: { paused?: number; next_run_at: number | null; last_run_at?: number | null },
): Promise<void> {
	await db
		.prepare(
			"UPDATE job_schedules SET paused = COALESCE(?, paused), next_run_at = ?, last_run_at = COALESCE(?, last_run_at) WHERE id = ?",
		)
		.bind(fields.paused ?? null, fields.next_run_at, fields.last_run_at ?? null, id)
		.run();
}

export async function deleteSchedule(db: D1Database, tenantId: string, id: string): Promise<boolean> {
	const res = await db.prepare("DELETE FROM job_schedules WHERE id = ? AND tenant_id = ?").bind(id, tenantId).run();
	return res.meta.changes > 0;
}

/** Unpaused schedules whose next occurrence passed before `before` (their alarm is late or lost). */
export async function findOverdueSchedules(db: D1Database, before: number, limit: number): Promise<ScheduleRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM job_schedules WHERE paused = 0 AND next_run_at < ? ORDER BY next_run_at LIMIT ?")
		.bind(before, limit)
		.all<ScheduleRow>();
	return results;
}
