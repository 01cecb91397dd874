import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleTelemetryBatch } from "../../../queues/telemetry";
import { call, createTenant, json } from "../helpers";
import { paymentBody, pay, uniqueKey } from "../payments/payment-helpers";
import { point, report } from "../telemetry/telemetry-helpers";

async function device(apiKey: string, deviceId: string, kind: "vending" | "truck" = "vending"): Promise<string> {
	const res = await call("POST", "/api/v1/devices", {
		token: apiKey,
		body: { device_id: deviceId, kind, timezone: "Europe/Berlin", city: "berlin" },
	});
	expect(res.status).toBe(201);
	return String((await json(res)).token);
}

describe("device credentials on the ingest and payment routes", () => {
	it("lets a machine report as itself and answers with its next slot", async () => {
		const { apiKey } = await createTenant();
		const token = await device(apiKey, "vm-own");
		const res = await call("POST", "/api/v1/machines/vm-own/reports", { token, body: report() });
		expect(res.status).toBe(202);
		const body = await json(res);
		expect(body).toMatchObject({ accepted: true, in_slot: expect.any(Boolean) });
		expect(Date.parse(String(body.next_report_at))).toBeGreaterThan(Date.now());
	});

	it("forbids a machine to report, read or pay as another machine", async () => {
		const { apiKey } = await createTenant();
		const token = await device(apiKey, "vm-a");
		await device(apiKey, "vm-b");
		const reportRes = await call("POST", "/api/v1/machines/vm-b/reports", { token, body: report() });
		expect(reportRes.status).toBe(403);
		expect(await json(reportRes)).toMatchObject({ error: { code: "forbidden" } });
		expect((await call("GET", "/api/v1/machines/vm-b", { token })).status).toBe(403);
		expect((await pay(token, uniqueKey("pay"), paymentBody("tok_visa", "vm-b"))).status).toBe(403);
	});

	it("lets a truck post only its own points, and a tenant key post for any device", async () => {
		const { apiKey } = await createTenant();
		const token = await device(apiKey, "truck-9", "truck");
		expect((await call("POST", "/api/v1/location/update", { token, body: point("truck-9") })).status).toBe(202);
		expect(
			(await call("POST", "/api/v1/location/batch", { token, body: { points: [point("truck-9"), point("truck-7")] } }))
				.status,
		).toBe(403);
		expect((await call("POST", "/api/v1/location/update", { token: apiKey, body: point("truck-7") })).status).toBe(202);
	});

	it("rejects a revoked device token with 401", async () => {
		const { apiKey } = await createTenant();
		const token = await device(apiKey, "vm-gone");
		expect((await call("POST", "/api/v1/devices/vm-gone/revoke", { token: apiKey })).status).toBe(200);
		const res = await call("POST", "/api/v1/machines/vm-gone/reports", { token, body: report() });
		expect(res.status).toBe(401);
	});

	it("lets a machine pay as itself with an idempotency key", async () => {
		const { apiKey } = await createTenant();
		const token = await device(apiKey, "vm-pay");
		const res = await pay(token, uniqueKey("pay"), paymentBody("tok_visa", "vm-pay"));
		expect(res.status).toBe(201);
	});
});

describe("planning from reports in the consumer", () => {
	it("turns a report into restock needs and maintenance tickets as it lands", async () => {
		const { tenantId } = await createTenant();
		const message = {
			v: 1,
			id: `msg_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
			tenant_id: tenantId,
			received_at: Date.now(),
			colo: null,
			country: null,
			kind: "report",
			machine_id: "vm-plan",
			report: report({ temperature_c: 14 }),
		};
		const batch = createMessageBatch("floodgate-telemetry", [
			{ id: "m1", timestamp: new Date(), attempts: 1, body: message },
		]);
		const ctx = createExecutionContext();
		await handleTelemetryBatch(batch, env, ctx);
		expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m1"]);
		const needs = await env.DB.prepare(
			"SELECT slot, quantity FROM restock_needs WHERE tenant_id = ? AND machine_id = 'vm-plan' ORDER BY slot",
		)
			.bind(tenantId)
			.all<{ slot: string; quantity: number }>();
		expect(needs.results).toContainEqual({ slot: "A2", quantity: 12 });
		const tickets = await env.DB.prepare(
			"SELECT reason FROM maintenance_tickets WHERE tenant_id = ? AND machine_id = 'vm-plan' ORDER BY reason",
		)
			.bind(tenantId)
			.all<{ reason: string }>();
		expect(tickets.results.map((t) => t.reason).length).toBeGreaterThanOrEqual(2); // the error code and the warm cabinet

		// Redelivery changes nothing.
		const again = createMessageBatch("floodgate-telemetry", [
			{ id: "m1", timestamp: new Date(), attempts: 2, body: message },
		]);
		const ctx2 = createExecutionContext();
		await handleTelemetryBatch(again, env, ctx2);
		await getQueueResult(again, ctx2);
		const count = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM maintenance_tickets WHERE tenant_id = ? AND machine_id = 'vm-plan'",
		)
			.bind(tenantId)
			.first<number>("n");
		expect(count).toBe(tickets.results.length);
	});
});
