export type JobTypeRow = {
	tenant_id: string;
	type: string;
	mode: "builtin" | "external";
	max_concurrency: number | null;
	rate_per_second: number | null;
	updated_at: number;
};

/**
 * Declares or updates a type. A new type is written only while the tenant has fewer than `cap`
 * (one statement: concurrent declarations cannot overshoot); updating a declared one always works.
 * Null when the cap refused a new type.
 */
export async function upsertJobType(db: D1Database, row: JobTypeRow, cap: number): Promise<JobTypeRow | null> {
	return db
		.prepare(
			`INSERT INTO job_types (tenant_id, type, mode, max_concurrency, rate_per_second, updated_at)
			 SELECT ?1, ?2, ?3, ?4, ?5, ?6
			 WHERE EXISTS (SELECT 1 FROM job_types WHERE tenant_id = ?1 AND type = ?2)
			    OR (SELECT COUNT(*) FROM job_types WHERE tenant_id = ?1) < ?7
			 ON CONFLICT (tenant_id, type) DO UPDATE SET mode = excluded.mode, max_concurrency = excluded.max_concurrency,
			   rate_per_second = excluded.rate_per_second, updated_at = excluded.updated_at
			 RETURNING *`,
		)
		.bind(row.tenant_id, row.type, row.mode, row.max_concurrency, row.rate_per_second, row.updated_at, cap)
		.first<JobTypeRow>();
}

export async function listJobTypes(db: D1Database, tenantId: string): Promise<JobTypeRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM job_types WHERE tenant_id = ? ORDER BY type")
		.bind(tenantId)
		.all<JobTypeRow>();
	return results;
}
