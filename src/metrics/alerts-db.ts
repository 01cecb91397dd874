import type { AlertState } from "./alert-state";

/** Alert rules and their evaluation state. */

export type AlertRuleRow = {
	id: string;
	tenant_id: string;
	name: string;
	expr: string;
	op: string;
	threshold: number;
	for_seconds: number;
	labels: string;
	state: string;
	active_since: number | null;
	fired_at: number | null;
	resolved_at: number | null;
	last_value: number | null;
	last_evaluated_at: number | null;
	created_at: number;
};

export type NewAlertRule = Pick<
	AlertRuleRow,
	"id" | "tenant_id" | "name" | "expr" | "op" | "threshold" | "for_seconds" | "labels" | "created_at"
>;

/** Inserts the rule unless the tenant already has `cap` rules; false when over the cap. */
export async function insertAlertRule(db: D1Database, rule: NewAlertRule, cap: number): Promise<boolean> {
	const result = await db
		.prepare(
			`INSERT INTO metric_alert_rules (id, tenant_id, name, expr, op, threshold, for_seconds, labels, state, created_at)
 SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'inactive', ? WHERE (SELECT COUNT(*) FROM metric_alert_rules WHERE tenant_id = ?) < ?`,
		)
		.bind(
			rule.id,
			rule.tenant_id,
			rule.name,
			rule.expr,
			rule.op,
			rule.threshold,
			rule.for_seconds,
			rule.labels,
			rule.created_at,
			rule.tenant_id,
			cap,
		)
		.run();
	return result.meta.changes === 1;
}

export async function listAlertRules(
	db: D1Database,
	tenantId: string,
	after: string,
	limit: number,
): Promise<AlertRuleRow[]> {
	const result = await db
		.prepare("SELECT * FROM metric_alert_rules WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?")
		.bind(tenantId, after, limit)
		.all<AlertRuleRow>();
	return result.results;
}

export async function getAlertRule(db: D1Database, tenantId: string, id: string): Promise<AlertRuleRow | null> {
	return db
		.prepare("SELECT * FROM metric_alert_rules WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.first<AlertRuleRow>();
}

export async function deleteAlertRule(db: D1Database, tenantId: string, id: string): Promise<boolean> {
	const result = await db
		.prepare("DELETE FROM metric_alert_rules WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.run();
	return result.meta.changes === 1;
}

/** The rules evaluated longest ago (never-evaluated first), at most `limit`. */
export async function rulesDueForEvaluation(db: D1Database, limit: number): Promise<AlertRuleRow[]> {
	const result = await db
		.prepare("SELECT * FROM metric_alert_rules ORDER BY COALESCE(last_evaluated_at, 0), id LIMIT ?")
		.bind(limit)
		.all<AlertRuleRow>();
	return result.results;
}

export async function saveAlertState(
	db: D1Database,
	id: string,
	state: AlertState,
	value: number | null,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE metric_alert_rules SET state = ?, active_since = ?, fired_at = ?, resolved_at = ?, last_value = ?, last_evaluated_at = ?
 WHERE id = ?`,
		)
		.bind(state.state, state.activeSince, state.firedAt, state.resolvedAt, value, now, id)
		.run();
}
