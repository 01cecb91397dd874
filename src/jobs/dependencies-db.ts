import { chunkJsonRows } from "./batches-db";

export function insertDependencyStatements(db: D1Database, jobId: string, dependsOn: string[]): D1PreparedStatement[] {
	const edges = dependsOn.map((dep) =>
		db.prepare("INSERT OR IGNORE INTO job_dependencies (job_id, depends_on) VALUES (?, ?)").bind(jobId, dep),
	);
	const flag = dependsOn.map((dep) => db.prepare("UPDATE jobs SET has_dependents = 1 WHERE id = ?").bind(dep));
	return [...edges, ...flag];
}

export type DependencyEdge = { job_id: string; depends_on: string };

/** The edges from jobs waiting on any of `jobIds` (ids travel as one JSON parameter per statement). */
export async function findDependentsOf(db: D1Database, jobIds: readonly string[]): Promise<DependencyEdge[]> {
	const edges: DependencyEdge[] = [];
	for (const json of chunkJsonRows(jobIds)) {
		const { results } = await db
			.prepare("SELECT job_id, depends_on FROM job_dependencies WHERE depends_on IN (SELECT value FROM json_each(?1))")
			.bind(json)
			.all<DependencyEdge>();
		edges.push(...results);
	}
	return edges;
}
