import type { Algorithm } from "./domain";
import type { FailureMode } from "./route-limits";

export type RateLimitRuleRow = {
	tenant_id: string;
	resource: string;
	algorithm: Algorithm;
	limit: number;
	window_seconds: number;
	burst: number | null;
	on_failure: FailureMode;
	updated_at: number;
	/** leaky_bucket only. */
	max_delay_ms: number | null;
};

const COLUMNS = `tenant_id, resource, algorithm, "limit", window_seconds, burst, on_failure, updated_at, max_delay_ms`;

export async function upsertRule(db: D1Database, rule: RateLimitRuleRow): Promise<RateLimitRuleRow> {
	const row = await db
		.prepare(
			`INSERT INTO ratelimit_rules (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (tenant_id, resource) DO UPDATE SET algorithm = excluded.algorithm, "limit" = excluded."limit",
			   window_seconds = excluded.window_seconds, burst = excluded.burst, on_failure = excluded.on_failure,
			   updated_at = excluded.updated_at, max_delay_ms = excluded.max_delay_ms
			 RETURNING ${COLUMNS}`,
		)
		.bind(
			rule.tenant_id,
			rule.resource,
			rule.algorithm,
			rule.limit,
			rule.window_seconds,
			rule.burst,
			rule.on_failure,
			rule.updated_at,
			rule.max_delay_ms,
		)
		.first<RateLimitRuleRow>();
	if (!row) throw new Error("upsert returned no row");
	return row;
}

export async function findRule(db: D1Database, tenantId: string, resource: string): Promise<RateLimitRuleRow | null> {
	return db
		.prepare(`SELECT ${COLUMNS} FROM ratelimit_rules WHERE tenant_id = ? AND resource = ?`)
		.bind(tenantId, resource)
		.first<RateLimitRuleRow>();
}

export async function listRules(db: D1Database, tenantId: string): Promise<RateLimitRuleRow[]> {
	const { results } = await db
		.prepare(`SELECT ${COLUMNS} FROM ratelimit_rules WHERE tenant_id = ? ORDER BY resource`)
		.bind(tenantId)
		.all<RateLimitRuleRow>();
	return results;
}

export async function deleteRule(db: D1Database, tenantId: string, resource: string): Promise<boolean> {
	const result = await db
		.prepare("DELETE FROM ratelimit_rules WHERE tenant_id = ? AND resource = ?")
		.bind(tenantId, resource)
		.run();
	return result.meta.changes > 0;
}
