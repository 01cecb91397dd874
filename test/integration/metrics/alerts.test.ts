import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { ingest } from "./metrics-helpers";

const rule = (over: Json = {}) => ({
	name: "hot",
	expr: { name: "temp_c", match: { site: "a" }, agg: "max", window_seconds: 300 },
	op: ">",
	threshold: 30,
	for_seconds: 60,
	labels: { severity: "page" },
	...over,
});

async function runCron(cron: string, scheduledTime: number): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime, cron }), env, ctx);
	await waitOnExecutionContext(ctx);
}

async function alert(apiKey: string, id: string): Promise<Json> {
	const res = await call("GET", `/api/v1/metrics/alerts/${id}`, { token: apiKey });
	expect(res.status).toBe(200);
	return json(res);
}

describe("metric alert rules", () => {
	it("creates, lists with state, reads and deletes a rule", async () => {
		const { apiKey } = await createTenant();
		const created = await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body: rule() });
		expect(created.status).toBe(201);
		const body = await json(created);
		expect(body).toMatchObject({
			name: "hot",
			op: ">",
			threshold: 30,
			state: "inactive",
			labels: { severity: "page" },
		});
		const list = await json(await call("GET", "/api/v1/metrics/alerts?limit=10", { token: apiKey }));
		expect(list).toMatchObject({ alerts: [{ id: body.id, state: "inactive" }], next_cursor: null });
		expect((await call("DELETE", `/api/v1/metrics/alerts/${String(body.id)}`, { token: apiKey })).status).toBe(204);
		expect((await call("GET", `/api/v1/metrics/alerts/${String(body.id)}`, { token: apiKey })).status).toBe(404);
	});

	it("rejects invalid rules and the 101st rule of a tenant", async () => {
		const { tenantId, apiKey } = await createTenant();
		expect((await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body: rule({ op: "!=" }) })).status).toBe(
			400,
		);
		const badExpr = rule({ expr: { name: "1x", agg: "max", window_seconds: 300 } });
		expect((await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body: badExpr })).status).toBe(400);
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
 INSERT INTO metric_alert_rules (id, tenant_id, name, expr, op, threshold, for_seconds, labels, state, created_at)
 SELECT ? || i, ?, 'r', ?, '>', 1, 0, '{}', 'inactive', 0 FROM n`,
		)
			.bind(`${tenantId}-seed-`, tenantId, JSON.stringify(rule().expr))
			.run();
		const over = await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body: rule() });
		expect(over.status).toBe(422);
		expect((await json(over)).error).toMatchObject({ code: "alert_rule_limit", details: { cap: 100 } });
		const page = await json(await call("GET", "/api/v1/metrics/alerts?limit=60", { token: apiKey }));
		expect(page.next_cursor).toEqual(expect.any(String));
	});

	it("hides a tenant's rules from another tenant (404)", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const { id } = await json(await call("POST", "/api/v1/metrics/alerts", { token: a.apiKey, body: rule() }));
		expect((await call("GET", `/api/v1/metrics/alerts/${String(id)}`, { token: b.apiKey })).status).toBe(404);
		expect((await call("DELETE", `/api/v1/metrics/alerts/${String(id)}`, { token: b.apiKey })).status).toBe(404);
		expect(await json(await call("GET", "/api/v1/metrics/alerts", { token: b.apiKey }))).toMatchObject({ alerts: [] });
		expect((await call("GET", `/api/v1/metrics/alerts/${String(id)}`, { token: a.apiKey })).status).toBe(200);
	});

	it("goes pending, firing and resolved through the every-minute cron", async () => {
		const { tenantId, apiKey } = await createTenant();
		const now = Date.now();
		await ingest(apiKey, tenantId, [
			{ name: "temp_c", labels: { site: "a" }, type: "gauge", value: 35, timestamp: now - 30_000 },
			{ name: "temp_c", labels: { site: "b" }, type: "gauge", value: 99, timestamp: now - 30_000 },
		]);
		const { id } = await json(await call("POST", "/api/v1/metrics/alerts", { token: apiKey, body: rule() }));
		const ruleId = String(id);
		// Another tenant's identical rule sees none of this tenant's data.
		const other = await createTenant();
		const { id: otherId } = await json(
			await call("POST", "/api/v1/metrics/alerts", { token: other.apiKey, body: rule() }),
		);

		await runCron("* * * * *", now);
		expect(await alert(apiKey, ruleId)).toMatchObject({ state: "pending", last_value: 35, fired_at: null });
		await runCron("* * * * *", now + 90_000);
		expect(await alert(apiKey, ruleId)).toMatchObject({
			state: "firing",
			fired_at: new Date(now + 90_000).toISOString(),
		});
		// The samples have left the 5-minute window: the condition no longer holds.
		await runCron("* * * * *", now + 400_000);
		expect(await alert(apiKey, ruleId)).toMatchObject({
			state: "resolved",
			resolved_at: new Date(now + 400_000).toISOString(),
		});
		const listed = await json(await call("GET", "/api/v1/metrics/alerts", { token: apiKey }));
		expect(listed).toMatchObject({ alerts: [{ id: ruleId, state: "resolved" }] });
		expect(await alert(other.apiKey, String(otherId))).toMatchObject({ state: "inactive", last_value: null });
	});
});
