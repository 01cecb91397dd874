import { describe, expect, it } from "vitest";
import { call, createTenant, json, sleep } from "../helpers";
import { countRows, point, report } from "./telemetry-helpers";

const future = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

async function rejected(
	token: string,
	path: string,
	body: unknown,
): Promise<{ code: unknown; paths: string[]; details: Record<string, unknown> }> {
	const res = await call("POST", path, { token, body });
	expect(res.status).toBe(400);
	const err = (await json(res)).error as {
		code: unknown;
		details?: { fields?: { path: string }[] } & Record<string, unknown>;
	};
	return { code: err.code, paths: (err.details?.fields ?? []).map((f) => f.path), details: err.details ?? {} };
}

describe("telemetry validation", () => {
	it.each([
		["truck_id with a space", { truck_id: "truck 1" }, "truck_id"],
		["empty truck_id", { truck_id: "" }, "truck_id"],
		["truck_id of 65 characters", { truck_id: "t".repeat(65) }, "truck_id"],
		["lat above 90", { lat: 90.0001 }, "lat"],
		["lat below -90", { lat: -91 }, "lat"],
		["lat as a string", { lat: "52.5" }, "lat"],
		["lng above 180", { lng: 180.5 }, "lng"],
		["lng below -180", { lng: -181 }, "lng"],
		["negative speed", { speed_kmh: -1 }, "speed_kmh"],
		["speed as null", { speed_kmh: null }, "speed_kmh"],
		["heading of 360", { heading: 360 }, "heading"],
		["negative heading", { heading: -0.5 }, "heading"],
		["recorded_at without a zone", { recorded_at: "2026-01-01T10:00:00" }, "recorded_at"],
		["recorded_at as a date only", { recorded_at: "2026-01-01" }, "recorded_at"],
		["recorded_at as epoch ms", { recorded_at: 1767261600000 }, "recorded_at"],
		["recorded_at 6 minutes ahead", { recorded_at: future(6) }, "recorded_at"],
		["an unknown field", { altitude: 30 }, "(root)"],
	])("rejects an update with %s", async (_name, override, path) => {
		const { apiKey } = await createTenant();
		const r = await rejected(apiKey, "/api/v1/location/update", point("t1", override));
		expect(r.code).toBe("validation_failed");
		expect(r.paths).toEqual([path]);
	});

	it("rejects missing required fields and malformed JSON", async () => {
		const { apiKey } = await createTenant();
		const r = await rejected(apiKey, "/api/v1/location/update", {});
		expect(r.paths.sort()).toEqual(["lat", "lng", "recorded_at", "truck_id"]);
		expect((await rejected(apiKey, "/api/v1/location/update", "{not json")).code).toBe("malformed_json");
	});

	it("accepts a point 4 minutes ahead, and one without speed and heading", async () => {
		const { apiKey } = await createTenant();
		expect(
			(await call("POST", "/api/v1/location/update", { token: apiKey, body: point("t1", { recorded_at: future(4) }) }))
				.status,
		).toBe(202);
		const { speed_kmh: _s, heading: _h, ...bare } = point("t1");
		expect((await call("POST", "/api/v1/location/update", { token: apiKey, body: bare })).status).toBe(202);
	});

	it("rejects a whole batch with one bad point, listing errors per point, and enqueues nothing", async () => {
		const { tenantId, apiKey } = await createTenant();
		const points = Array.from({ length: 50 }, () => point("t1"));
		points[3] = point("t1", { lat: 100 });
		points[17] = point("t1", { heading: 400, truck_id: "x y" });
		const r = await rejected(apiKey, "/api/v1/location/batch", { points });
		expect(r.details.points).toEqual([
			{ index: 3, errors: [{ path: "lat", message: expect.any(String) }] },
			{
				index: 17,
				errors: expect.arrayContaining([
					{ path: "heading", message: expect.any(String) },
					{ path: "truck_id", message: expect.any(String) },
				]),
			},
		]);
		const stats = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
		expect(stats).toMatchObject({ received: 50, rejected: 50, enqueued: 0 });
		await sleep(2500); // longer than max_batch_timeout: anything enqueued would have landed
		expect(await countRows("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(0);
	});

	it("rejects empty batches and batches over 500 points", async () => {
		const { apiKey } = await createTenant();
		expect((await rejected(apiKey, "/api/v1/location/batch", { points: [] })).paths).toEqual(["points"]);
		const big = Array.from({ length: 501 }, () => point("t1"));
		expect((await rejected(apiKey, "/api/v1/location/batch", { points: big })).paths).toEqual(["points"]);
	});

	it.each([
		["report_date not a date", { report_date: "15/01/2026" }, "report_date"],
		["report_date two days ahead", { report_date: future(2 * 24 * 60 + 60).slice(0, 10) }, "report_date"],
		["a negative count", { inventory: [{ slot: "A1", sku: "x", count: -1, capacity: 5 }] }, "inventory.0.count"],
		["count over capacity", { inventory: [{ slot: "A1", sku: "x", count: 6, capacity: 5 }] }, "inventory.0.count"],
		[
			"a duplicated slot",
			{
				inventory: [
					{ slot: "A1", sku: "x", count: 1, capacity: 5 },
					{ slot: "A1", sku: "y", count: 1, capacity: 5 },
				],
			},
			"inventory",
		],
		["an empty sku", { inventory: [{ slot: "A1", sku: "", count: 1, capacity: 5 }] }, "inventory.0.sku"],
		["fractional cash", { cash_cents: 10.5 }, "cash_cents"],
		["negative cash", { cash_cents: -1 }, "cash_cents"],
		["an absurd temperature", { temperature_c: 500 }, "temperature_c"],
		["a malformed error code", { error_codes: ["has space"] }, "error_codes.0"],
		["an empty firmware", { firmware: "" }, "firmware"],
	])("rejects a report with %s", async (_name, override, path) => {
		const { apiKey } = await createTenant();
		expect((await rejected(apiKey, "/api/v1/machines/vm-1/reports", report(override))).paths).toEqual([path]);
	});

	it("rejects a malformed machine id and requires an API key", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/machines/bad%20id/reports", { token: apiKey, body: report() });
		expect(res.status).toBe(400);
		expect((await call("POST", "/api/v1/location/update", { body: point() })).status).toBe(401);
		expect((await call("GET", "/api/v1/stats")).status).toBe(401);
	});

	it("validates track queries", async () => {
		const { apiKey } = await createTenant();
		expect((await call("GET", "/api/v1/trucks/t1/track?from=yesterday", { token: apiKey })).status).toBe(400);
		expect(
			(
				await call("GET", "/api/v1/trucks/t1/track?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", {
					token: apiKey,
				})
			).status,
		).toBe(400);
		expect((await call("GET", "/api/v1/trucks/t1/track?cursor=abc", { token: apiKey })).status).toBe(400);
	});
});
