/** Platform figures for GET /metrics that live in D1 (one GROUP BY each). */

export async function jobCountsByStatus(db: D1Database): Promise<{ status: string; n: number }[]> {
	const result = await db
		.prepare("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
		.all<{ status: string; n: number }>();
	return result.results;
}

export async function metricSeriesTotal(db: D1Database): Promise<number> {
	const row = await db.prepare("SELECT COUNT(*) AS n FROM metric_series").first<{ n: number }>();
	return row?.n ?? 0;
}
