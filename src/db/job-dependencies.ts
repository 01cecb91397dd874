export function insertDependencyStatements(db: D1Database, jobId: string, dependsOn: string[]): D1PreparedStatement[] {
	const edges = dependsOn.map((dep) => db.prepare("INSERT OR IGNORE INTO job_dependencies (job_id, depends_on) VALUES (?, ?)").bind(jobId, dep));
	const flag = dependsOn.map((dep) => db.prepare("UPDATE jobs SET has_dependents = 1 WHERE id = ?").bind(dep));
	return [...edges, ...flag];
}

/** Ids of the jobs waiting on `jobId`. */
export async function findDependents(db: D1Database, jobId: string): Promise<string[]> {
	const { results } = await db.prepare("SELECT job_id FROM job_dependencies WHERE depends_on = ?").bind(jobId).all<{ job_id: string }>();
	return results.map((r) => r.job_id);
}
