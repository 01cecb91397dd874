import { z } from "zod";
import { publishEvent } from "../webhooks/service";
import { errorText, log } from "../platform/log";
import type { AlertState } from "./alert-state";
import { ALERT_OPS, conditionHolds, nextAlertState } from "./alert-state";
import type { AlertRuleRow } from "./alerts-db";
import { rulesDueForEvaluation, saveAlertState } from "./alerts-db";
import { METRIC_NAME_PATTERN } from "./domain";
import { QUERY_AGGS } from "./query-domain";
import { runQuery } from "./query";

/** Alert rules: their expression's schema, their JSON view, and their evaluation on the cron. */

export const ALERT_RULE_CAP = 100;
/** Rules evaluated per cron run: each is one or two D1 queries, far under 1,000 per invocation. */
export const ALERT_EVALUATIONS_PER_RUN = 200;

export const alertExprSchema = z
	.object({
		name: z.string().max(200).regex(METRIC_NAME_PATTERN),
		match: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string().max(256)).default({}),
		agg: z.enum(QUERY_AGGS),
		window_seconds: z.number().int().min(60).max(86_400),
	})
	.strict();

const storedExpr = alertExprSchema;
const storedLabels = z.record(z.string(), z.string());
const storedOp = z.enum(ALERT_OPS);
const storedState = z.enum(["inactive", "pending", "firing", "resolved"]);

export function alertJson(row: AlertRuleRow) {
	const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
	return {
		id: row.id,
		name: row.name,
		expr: storedExpr.parse(JSON.parse(row.expr)),
		op: storedOp.parse(row.op),
		threshold: row.threshold,
		for_seconds: row.for_seconds,
		labels: storedLabels.parse(JSON.parse(row.labels)),
		state: storedState.parse(row.state),
		active_since: iso(row.active_since),
		fired_at: iso(row.fired_at),
		resolved_at: iso(row.resolved_at),
		last_value: row.last_value,
		last_evaluated_at: iso(row.last_evaluated_at),
		created_at: iso(row.created_at),
	};
}

/**
 * Evaluates due rules: the expression's aggregate over the last window_seconds, compared with
 * the threshold, moves each through pending → firing → resolved. Notifications are not built
 * yet: a rule that starts firing or resolves is logged. One failing rule does not stop the rest.
 */
export async function evaluateAlerts(
	env: Env,
	now: number,
): Promise<{ evaluated: number; firing: number; failed: number }> {
	const figures = { evaluated: 0, firing: 0, failed: 0 };
	for (const rule of await rulesDueForEvaluation(env.DB, ALERT_EVALUATIONS_PER_RUN)) {
		try {
			const expr = storedExpr.parse(JSON.parse(rule.expr));
			const windowMs = expr.window_seconds * 1000;
			const answer = await runQuery(env.DB, {
				tenantId: rule.tenant_id,
				name: expr.name,
				matchers: expr.match,
				fromMs: now - windowMs,
				toMs: now,
				stepMs: windowMs,
				agg: expr.agg,
			});
			const value = answer.points[0]?.v ?? null;
			const current: AlertState = {
				state: storedState.parse(rule.state),
				activeSince: rule.active_since,
				firedAt: rule.fired_at,
				resolvedAt: rule.resolved_at,
			};
			const next = nextAlertState(
				current,
				conditionHolds(value, storedOp.parse(rule.op), rule.threshold),
				now,
				rule.for_seconds,
			);
			await saveAlertState(env.DB, rule.id, next, value, now);
			if (next.state !== current.state && (next.state === "firing" || next.state === "resolved")) {
				const change = { rule_id: rule.id, name: rule.name, state: next.state, value };
				log.warn("metric alert changed state", { tenant_id: rule.tenant_id, ...change });
				// alert.firing / alert.resolved to the tenant's webhook endpoints (never throws).
				await publishEvent(env, rule.tenant_id, `alert.${next.state}`, { ...change, at: new Date(now).toISOString() });
			}
			figures.evaluated++;
			if (next.state === "firing") figures.firing++;
		} catch (err) {
			figures.failed++;
			log.error("metric alert evaluation failed", { rule_id: rule.id, error: errorText(err) });
		}
	}
	return figures;
}
