export type JobTypeRow = {
	tenant_id: string;
	type: string;
	mode: "builtin" | "external";
	max_concurrency: number | null;
	rate_per_second: number | null;
	updated_at: number;
};

export async function upsertJobType(db: D1Database, row: JobTypeRow): Promise<JobTypeRow> {
	const saved = await db
		.prepare(
			`INSERT INTO job_types (tenant_id, type, mode, max_concurrency, rate_per_second, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			 ON CONFLICT (tenant_id, type) DO UPDATE SET mode = excluded.mode, max_concurrency = excluded.max_concurrency,
			   rate_per_second = excluded.rate_per_second, updated_at = excluded.updated_at
			 RETURNING *`,
		)
		.bind(row.tenant_id, row.type, row.mode, row.max_concurrency, row.rate_per_second, row.updated_at)
		.first<JobTypeRow>();
	if (!saved) throw new Error("upsert returned no row");
	return saved;
}

export async function listJobTypes(db: D1Database, tenantId: string): Promise<JobTypeRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM job_types WHERE tenant_id = ? ORDER BY type")
		.bind(tenantId)
		.all<JobTypeRow>();
	return results;
}
