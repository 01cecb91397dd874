import { deleteOldestRows, multiRowInsert } from "../../platform/sql-db";
import type { SqlValue } from "../../platform/sql-db";

/** Aggregated limiter decisions per (tenant, minute, resource, key): counts are added, never replaced. */

export type DecisionDelta = {
	tenantId: string;
	minute: number;
	resource: string;
	key: string;
	allowed: number;
	rejected: number;
};

const COLUMNS = ["tenant_id", "minute", "resource", "limit_key", "allowed", "rejected"] as const;

/** Adds the deltas in one batch (16 rows per statement: 96 bound parameters). */
export async function addDecisionDeltas(db: D1Database, deltas: readonly DecisionDelta[]): Promise<void> {
	if (deltas.length === 0) return;
	const rows: SqlValue[][] = deltas.map((d) => [d.tenantId, d.minute, d.resource, d.key, d.allowed, d.rejected]);
	const statements = multiRowInsert(
		"ratelimit_decisions",
		COLUMNS,
		rows,
		`ON CONFLICT (tenant_id, minute, resource, limit_key) DO UPDATE SET
		 allowed = allowed + excluded.allowed, rejected = rejected + excluded.rejected`,
	);
	await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

export function purgeOldDecisions(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "ratelimit_decisions", "minute", cutoff, limit);
}
