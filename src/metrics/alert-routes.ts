import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { ALERT_OPS } from "./alert-state";
import { ALERT_RULE_CAP, alertExprSchema, alertJson } from "./alerts";
import { deleteAlertRule, getAlertRule, insertAlertRule, listAlertRules } from "./alerts-db";
import { LABEL_NAME_PATTERN } from "./domain";
import { metricDocs } from "./openapi";

const ruleBody = z
	.object({
		name: z.string().min(1).max(128),
		expr: alertExprSchema,
		op: z.enum(ALERT_OPS),
		threshold: z.number().finite(),
		for_seconds: z.number().int().min(0).max(86_400).default(0),
		labels: z.record(z.string().regex(LABEL_NAME_PATTERN), z.string().max(256)).default({}),
	})
	.strict();
const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.object({
	limit: z.coerce.number().int().min(1).max(100).default(50),
	cursor: z.string().max(64).default(""),
});

function notFound(id: string): AppError {
	return new AppError(404, "not_found", `No alert rule ${id}.`);
}

/** Alert rules: create, list (with state), read, delete. Evaluated by the cron (src/metrics/alerts.ts). */
export const alertRoutes = new Hono<AppEnv>()
	.post("/alerts", metricDocs.createAlert, validate("json", ruleBody), async (c) => {
		const body = c.req.valid("json");
		const tenantId = c.get("principal").tenantId;
		const rule = {
			id: newId("alr"),
			tenant_id: tenantId,
			name: body.name,
			expr: JSON.stringify(body.expr),
			op: body.op,
			threshold: body.threshold,
			for_seconds: body.for_seconds,
			labels: JSON.stringify(body.labels),
			created_at: Date.now(),
		};
		if (!(await insertAlertRule(c.env.DB, rule, ALERT_RULE_CAP)))
			throw new AppError(422, "alert_rule_limit", `A tenant may have at most ${ALERT_RULE_CAP} alert rules.`, {
				cap: ALERT_RULE_CAP,
			});
		const stored = await getAlertRule(c.env.DB, tenantId, rule.id);
		if (!stored) throw notFound(rule.id);
		return c.json(alertJson(stored), 201);
	})
	.get("/alerts", metricDocs.listAlerts, validate("query", listQuery), async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const rows = await listAlertRules(c.env.DB, c.get("principal").tenantId, cursor, limit + 1);
		const page = rows.slice(0, limit);
		return c.json({ alerts: page.map(alertJson), next_cursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null });
	})
	.get("/alerts/:id", metricDocs.getAlert, validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const row = await getAlertRule(c.env.DB, c.get("principal").tenantId, id);
		if (!row) throw notFound(id);
		return c.json(alertJson(row));
	})
	.delete("/alerts/:id", metricDocs.deleteAlert, validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		if (!(await deleteAlertRule(c.env.DB, c.get("principal").tenantId, id))) throw notFound(id);
		return c.body(null, 204);
	});
