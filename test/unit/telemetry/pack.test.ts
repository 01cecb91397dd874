import { describe, expect, it } from "vitest";
import type { LocationsMessage, StoredPoint, TelemetryMessage } from "../../../src/telemetry/domain";
import { telemetryMessageSchema } from "../../../src/telemetry/domain";
import { packTelemetry } from "../../../src/telemetry/pack";
import { messageBytes } from "../../../src/platform/queue-limits";
import { planTelemetryWrite } from "../../../src/telemetry/write-db";

const NOW = Date.UTC(2026, 10, 20, 8, 0, 0);
const TENANT_A = "ten_00000000000000000000000a";
const TENANT_B = "ten_00000000000000000000000b";
let n = 0;
const newId = () => `msg_${String(++n).padStart(24, "0")}`;

function point(truckId: string, recordedAt: number): StoredPoint {
	return { truck_id: truckId, lat: 1, lng: 2, speed_kmh: null, heading: null, recorded_at: recordedAt };
}

/** One request's message: `count` points of truck `truck`, received at `receivedAt`. */
function locations(
	count: number,
	options: { tenant?: string; backfill?: boolean; receivedAt?: number; colo?: string | null; truck?: string } = {},
): LocationsMessage {
	return {
		v: 1,
		id: newId(),
		tenant_id: options.tenant ?? TENANT_A,
		received_at: options.receivedAt ?? NOW,
		colo: options.colo ?? null,
		country: null,
		kind: "locations",
		...(options.backfill ? { lane: "backfill" as const } : {}),
		points: Array.from({ length: count }, (_, i) => point(options.truck ?? `t-${n}`, NOW - 1000 - i)),
	};
}

function report(): TelemetryMessage {
	return {
		v: 1,
		id: newId(),
		tenant_id: TENANT_A,
		received_at: NOW,
		colo: null,
		country: null,
		kind: "report",
		machine_id: "m-1",
		report: {
			report_date: "2026-11-20",
			inventory: [],
			cash_cents: 0,
			temperature_c: 4,
			error_codes: [],
			firmware: "1.0",
		},
	};
}

function pointsOf(body: TelemetryMessage): number {
	return body.kind === "locations" ? body.points.length : 0;
}

describe("packTelemetry (group commit's pack hook)", () => {
	it("merges single-point messages of one tenant and lane into messages of at most 25 points", () => {
		const bodies = Array.from({ length: 60 }, () => locations(1));
		const packed = packTelemetry(bodies, newId);
		expect(packed.map((p) => pointsOf(p.body))).toEqual([25, 25, 10]);
		expect(packed.map((p) => p.members.length)).toEqual([25, 25, 10]);
		// Every input is carried exactly once, in order, and every point is in the message carrying it.
		expect(packed.flatMap((p) => p.members)).toEqual(bodies.map((_, i) => i));
		for (const p of packed) {
			const carried = p.members.flatMap((i) => bodies[i]?.points ?? []).map((x) => x.truck_id);
			expect(p.body.kind === "locations" ? p.body.points.map((x) => x.truck_id) : []).toEqual(carried);
			expect(telemetryMessageSchema.safeParse(p.body).success).toBe(true);
		}
		// Merged messages get fresh ids, distinct from each other and from every input's.
		const ids = new Set([...bodies.map((b) => b.id), ...packed.map((p) => p.body.id)]);
		expect(ids.size).toBe(bodies.length + packed.length);
	});

	it("never merges different tenants, lanes or colos", () => {
		const bodies = [
			locations(1, { tenant: TENANT_A }),
			locations(1, { tenant: TENANT_B }),
			locations(1, { tenant: TENANT_A, backfill: true }),
			locations(1, { tenant: TENANT_A, colo: "FRA" }),
			locations(1, { tenant: TENANT_A }),
			locations(1, { tenant: TENANT_B }),
			locations(1, { tenant: TENANT_A, backfill: true }),
			locations(1, { tenant: TENANT_A, colo: "FRA" }),
		];
		const packed = packTelemetry(bodies, newId);
		expect(packed.map((p) => p.members)).toEqual([
			[0, 4],
			[1, 5],
			[2, 6],
			[3, 7],
		]);
		for (const p of packed) {
			const first = bodies[p.members[0] ?? -1];
			expect([p.body.tenant_id, p.body.lane ?? "live", p.body.colo]).toEqual([
				first?.tenant_id,
				first?.lane ?? "live",
				first?.colo,
			]);
		}
	});

	it("never splits a request's message, and passes reports and full messages through as they came", () => {
		const full = locations(25);
		const bodies: TelemetryMessage[] = [locations(20), locations(10), report(), full, locations(5)];
		const packed = packTelemetry(bodies, newId);
		// 20 + 10 does not fit: the 10 stays open and takes the 5; the full 25 goes as it came.
		expect(packed.map((p) => p.members).sort(byFirst)).toEqual([[0], [1, 4], [2], [3]]);
		expect(packed.find((p) => p.members[0] === 3)?.body).toBe(full);
		expect(packed.find((p) => p.members[0] === 2)?.body).toBe(bodies[2]);
		expect(packed.find((p) => p.members[0] === 0)?.body).toBe(bodies[0]);
		expect(pointsOf(packed.find((p) => p.members[0] === 1)?.body ?? report())).toBe(15);
	});

	it("keeps each point's own received_at when the merged requests were received at different times", () => {
		const bodies = [locations(1, { receivedAt: NOW }), locations(1, { receivedAt: NOW + 3 }), locations(1)];
		const [only] = packTelemetry(bodies, newId);
		expect(only?.body.received_at).toBe(NOW);
		const points = only?.body.kind === "locations" ? only.body.points : [];
		expect(points.map((p) => p.received_at)).toEqual([undefined, NOW + 3, undefined]);
		// The rows it writes are the rows the three messages would have written alone.
		const rows = (messages: TelemetryMessage[]) =>
			planTelemetryWrite(messages, "bat_x", NOW)
				.filter((s) => s.sql.startsWith("INSERT INTO truck_locations"))
				.flatMap((s) => s.params);
		expect(rows(only ? [only.body] : [])).toEqual(rows(bodies));
	});

	it("closes a message before it would pass the size bound", () => {
		const bodies = Array.from({ length: 10 }, () => locations(2));
		const one = messageBytes(bodies[0]);
		const maxBytes = one * 3;
		// 20 points fit one message by count; the byte bound splits them.
		expect(packTelemetry(bodies, newId)).toHaveLength(1);
		const packed = packTelemetry(bodies, newId, maxBytes);
		expect(packed.length).toBeGreaterThan(1);
		expect(packed.flatMap((p) => p.members).sort((a, b) => a - b)).toEqual(bodies.map((_, i) => i));
		for (const p of packed) expect(messageBytes(p.body)).toBeLessThanOrEqual(maxBytes);
		expect(packed.some((p) => p.members.length > 1)).toBe(true);
	});
});

function byFirst(a: readonly number[], b: readonly number[]): number {
	return (a[0] ?? 0) - (b[0] ?? 0);
}
