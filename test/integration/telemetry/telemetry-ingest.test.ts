import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import { countRows, point, report, waitFor } from "./telemetry-helpers";

describe("telemetry ingest through the real local queue", () => {
	it("accepts a location update with 202 and lands it in D1 with the latest position", async () => {
		const { tenantId, apiKey } = await createTenant();
		const p = point("truck-e2e");
		const res = await call("POST", "/api/v1/location/update", { token: apiKey, body: p });
		expect(res.status).toBe(202);
		expect(await json(res)).toEqual({ accepted: 1 });
		await waitFor(async () =>
			(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)) === 1
				? true
				: undefined,
		);
		const trucks = await json(await call("GET", "/api/v1/trucks", { token: apiKey }));
		expect(trucks.trucks).toEqual([
			expect.objectContaining({ truck_id: "truck-e2e", lat: 52.52, lng: 13.405, recorded_at: p.recorded_at }),
		]);
	});

	it("accepts concurrent single updates: every 202 lands exactly once", async () => {
		const { tenantId, apiKey } = await createTenant();
		const points = Array.from({ length: 60 }, (_, i) => point(`truck-gc-${i % 5}`));
		const answers = await Promise.all(
			points.map((p) => call("POST", "/api/v1/location/update", { token: apiKey, body: p })),
		);
		expect(answers.map((r) => r.status)).toEqual(points.map(() => 202));
		await waitFor(async () =>
			(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)) === 60
				? true
				: undefined,
		);
		const stats = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(stats).toMatchObject({ received: 60, enqueued: 60, rejected: 0 });
	});

	it("accepts a batch of 500 points split over several messages, each stored once", async () => {
		const { tenantId, apiKey } = await createTenant();
		const points = Array.from({ length: 500 }, (_, i) => point(`truck-${i % 7}`));
		const res = await call("POST", "/api/v1/location/batch", { token: apiKey, body: { points } });
		expect(res.status).toBe(202);
		expect(await json(res)).toEqual({ accepted: 500 });
		// A client resend of the same batch is accepted again and deduplicated by the consumer.
		expect((await call("POST", "/api/v1/location/batch", { token: apiKey, body: { points } })).status).toBe(202);
		await waitFor(async () => {
			const stats = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
			return stats.processed === 1000 ? stats : undefined;
		});
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(500);
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_positions WHERE tenant_id = ?", tenantId)).toBe(7);
		const stats = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(stats).toMatchObject({
			scope: "tenant",
			received: 1000,
			enqueued: 1000,
			processed: 1000,
			backlog: 0,
			dead_letters: 0,
			rejected: 0,
		});
		expect(Number(stats.batches)).toBeGreaterThanOrEqual(1);
		expect(stats.last_batch_at).toEqual(expect.any(String));
	});

	it("stores a machine report and serves the machine's latest status", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/machines/vm-042/reports", { token: apiKey, body: report() });
		expect(res.status).toBe(202);
		expect(await json(res)).toEqual({ accepted: true });
		const status = await waitFor(async () => {
			const r = await call("GET", "/api/v1/machines/vm-042", { token: apiKey });
			return r.status === 200 ? json(r) : undefined;
		});
		expect(status).toMatchObject({
			machine_id: "vm-042",
			report_date: "2026-01-15",
			cash_cents: 12_345,
			error_codes: ["COIN_JAM"],
			inventory: report().inventory,
		});
	});

	it("keeps tenants apart on every read", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		expect((await call("POST", "/api/v1/machines/vm-1/reports", { token: a.apiKey, body: report() })).status).toBe(202);
		await waitFor(async () =>
			(await call("GET", "/api/v1/machines/vm-1", { token: a.apiKey })).status === 200 ? true : undefined,
		);
		expect((await call("GET", "/api/v1/machines/vm-1", { token: b.apiKey })).status).toBe(404);
		expect(await json(await call("GET", "/api/v1/trucks", { token: b.apiKey }))).toEqual({
			trucks: [],
			next_cursor: null,
		});
	});
});
