import { describe, expect, it } from "vitest";
import { MAX_BOUND_PARAMETERS, jsonRowsInsert, multiRowInsert } from "../../../src/platform/sql-db";
import {
	MAX_SEND_BATCH_BYTES,
	MAX_SEND_BATCH_MESSAGES,
	POINTS_PER_MESSAGE,
	byteLength,
	chunk,
	groupForSendBatch,
	retryDelaySeconds,
} from "../../../src/platform/queue-limits";
import type { TelemetryMessage } from "../../../src/telemetry/domain";
import { MAX_POINTS_PER_BATCH } from "../../../src/telemetry/domain";
import { planBatchFigures, planTelemetryWrite } from "../../../src/telemetry/write-db";

const TENANT = "ten_0123456789abcdef01234567";

function locations(n: number, points: number): TelemetryMessage[] {
	return Array.from({ length: n }, (_unused, m) => ({
		v: 1,
		id: `msg_${m.toString(16).padStart(24, "0")}`,
		tenant_id: TENANT,
		received_at: 1,
		colo: "FRA",
		country: "DE",
		kind: "locations",
		points: Array.from({ length: points }, (_, i) => ({
			truck_id: `truck-${"x".repeat(50)}-${i}`,
			lat: 1,
			lng: 2,
			speed_kmh: 3,
			heading: 4,
			recorded_at: m * 1000 + i,
		})),
	}));
}

function reports(n: number): TelemetryMessage[] {
	return Array.from({ length: n }, (_unused, m) => ({
		v: 1,
		id: `msg_${m.toString(16).padStart(24, "0")}`,
		tenant_id: TENANT,
		received_at: 1,
		colo: null,
		country: null,
		kind: "report",
		machine_id: `vm-${m}`,
		report: {
			report_date: "2026-01-01",
			inventory: Array.from({ length: 500 }, (_, i) => ({ slot: `S${i}`, sku: "s".repeat(64), count: 1, capacity: 2 })),
			cash_cents: 1,
			temperature_c: 4,
			error_codes: Array.from({ length: 100 }, () => "E".repeat(32)),
			firmware: "f".repeat(64),
		},
	}));
}

/** The rows a jsonRowsInsert statement carries in its JSON parameter. */
function jsonRows(param: unknown): unknown[][] {
	if (typeof param !== "string") throw new Error("expected a JSON parameter");
	const rows: unknown = JSON.parse(param);
	if (!Array.isArray(rows) || !rows.every(Array.isArray)) throw new Error("expected JSON rows");
	return rows;
}

describe("D1 statement planning", () => {
	it("sends 100 wide report rows as JSON parameters, each under D1's 2 MB per value and 100 KB per statement", () => {
		const statements = planTelemetryWrite(reports(100), "bat_1", 1);
		for (const s of statements) {
			expect(s.params.length).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
			expect(new TextEncoder().encode(s.sql).length).toBeLessThan(100_000);
			for (const p of s.params)
				if (typeof p === "string") expect(new TextEncoder().encode(p).length).toBeLessThan(2_000_000);
		}
		// ~45 KB a report: more than one chunk, every row in exactly one.
		const inserts = statements.filter((s) => s.sql.startsWith("INSERT INTO machine_reports"));
		expect(inserts.length).toBeGreaterThan(1);
		expect(inserts.reduce((n, s) => n + jsonRows(s.params[0]).length, 0)).toBe(100);
		expect(statements.every((s) => (s.sql.match(/\?/g) ?? []).length === s.params.length)).toBe(true);
	});

	it("keeps the largest consumer batch to a handful of statements, far under D1's 1,000 queries per invocation", () => {
		const statements = planTelemetryWrite(locations(100, POINTS_PER_MESSAGE), "bat_1", 1);
		expect(statements.length).toBeLessThanOrEqual(10);
		for (const s of statements) expect(s.params.length).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
		const located = statements
			.filter((s) => s.sql.startsWith("INSERT INTO truck_locations"))
			.reduce((n, s) => n + jsonRows(s.params[0]).length, 0);
		expect(located).toBe(100 * POINTS_PER_MESSAGE);
	});

	it("reduces positions to the latest point per truck", () => {
		const [message] = locations(1, 1);
		if (message?.kind !== "locations") throw new Error("fixture");
		const base = message.points[0];
		if (!base) throw new Error("fixture");
		message.points = [
			{ ...base, recorded_at: 5, lat: 5 },
			{ ...base, recorded_at: 9, lat: 9 },
			{ ...base, recorded_at: 7, lat: 7 },
		];
		const positions = planTelemetryWrite([message], "bat_1", 1).filter((s) =>
			s.sql.startsWith("INSERT INTO truck_positions"),
		);
		expect(positions).toHaveLength(1);
		const rows = jsonRows(positions[0]?.params[0]);
		expect(rows).toHaveLength(1);
		expect(rows[0]?.slice(2, 4)).toEqual([9, 9]);
	});

	it("splits rows and checks their width", () => {
		const rows = Array.from({ length: 25 }, (_, i) => [i, i, i, i]);
		const statements = multiRowInsert("t", ["a", "b", "c", "d"], rows, "");
		expect(statements.map((s) => s.params.length)).toEqual([100]);
		expect(
			multiRowInsert(
				"t",
				["a", "b", "c"],
				Array.from({ length: 34 }, () => [1, 2, 3]),
				"",
			).map((s) => s.params.length),
		).toEqual([99, 3]);
		expect(() => multiRowInsert("t", ["a", "b"], [[1]], "")).toThrow();
		expect(planBatchFigures([{ tenantId: TENANT, updates: 3 }], 1, 2, 0)).toHaveLength(2);
		const json = jsonRowsInsert(
			"t",
			["a", "b"],
			[
				[1, "x"],
				[2, null],
				[3, "z"],
			],
			"ON CONFLICT DO NOTHING",
			20,
		);
		expect(json.map((st) => jsonRows(st.params[0]))).toEqual([
			[
				[1, "x"],
				[2, null],
			],
			[[3, "z"]],
		]);
		expect(json[0]?.sql).toBe(
			"INSERT INTO t (a, b) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
		);
		expect(() => jsonRowsInsert("t", ["a", "b"], [[1]], "")).toThrow();
	});
});

describe("Queues limits", () => {
	it("packs a 500-point batch into messages under 128 KB and one sendBatch under 256 KB", () => {
		const messages = locations(MAX_POINTS_PER_BATCH / POINTS_PER_MESSAGE, POINTS_PER_MESSAGE);
		const groups = groupForSendBatch(messages);
		expect(groups).toHaveLength(1);
		expect(byteLength(groups[0])).toBeLessThan(MAX_SEND_BATCH_BYTES);
	});

	it("splits sendBatch calls at 100 messages and at 256 KB", () => {
		expect(groupForSendBatch(Array.from({ length: 250 }, (_, i) => i)).map((g) => g.length)).toEqual([100, 100, 50]);
		const big = reports(6); // ~45 KB each
		const groups = groupForSendBatch(big);
		expect(groups.length).toBeGreaterThan(1);
		for (const g of groups) {
			expect(g.length).toBeLessThanOrEqual(MAX_SEND_BATCH_MESSAGES);
			expect(byteLength(g)).toBeLessThan(MAX_SEND_BATCH_BYTES);
		}
		expect(() => groupForSendBatch(["x".repeat(130 * 1024)])).toThrow(/exceeds/);
	});

	it("backs off per message: 2, 4, 8 … seconds, capped at 5 minutes", () => {
		expect([1, 2, 3, 4, 5, 6].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 32, 64]);
		expect(retryDelaySeconds(50)).toBe(300);
		expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
	});
});
