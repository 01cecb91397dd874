import { describe, expect, it } from "vitest";
import type { StoredPoint, TelemetryMessage } from "../../../src/telemetry/domain";
import { laneOf, laneTargets, locationMessages } from "../../../src/telemetry/lanes";

const NOW = Date.UTC(2026, 10, 20, 8, 0, 0);
const meta = { v: 1 as const, tenant_id: "ten_000000000000000000000001", received_at: NOW, colo: null, country: null };
let n = 0;
const newId = () => `msg_${String(++n).padStart(24, "0")}`;

function points(truckId: string, count: number, recordedAt: number): StoredPoint[] {
	return Array.from({ length: count }, (_, i) => ({
		truck_id: truckId,
		lat: 1,
		lng: 2,
		speed_kmh: null,
		heading: null,
		recorded_at: recordedAt + i,
	}));
}

describe("ingest lanes", () => {
	it("splits a batch by age into live and backfill messages of at most 25 points", () => {
		const before = NOW - 600_000;
		const messages = locationMessages(
			meta,
			[...points("a", 30, NOW - 1000), ...points("b", 60, NOW - 86_400_000)],
			before,
			newId,
		);
		const summary = messages.map((m) => [laneOf(m), m.kind === "locations" ? m.points.length : 0]);
		expect(summary).toEqual([
			["live", 25],
			["live", 5],
			["backfill", 25],
			["backfill", 25],
			["backfill", 10],
		]);
		expect(messages.filter((m) => laneOf(m) === "live").every((m) => m.lane === undefined)).toBe(true);
	});

	it("charges each lane's tenant and device keys the points they carry", () => {
		const messages: TelemetryMessage[] = locationMessages(
			meta,
			[...points("a", 3, NOW), ...points("b", 2, NOW), ...points("a", 4, NOW - 86_400_000)],
			NOW - 600_000,
			newId,
		);
		const limits = { live: { device: 100, tenant: 1000 }, backfill: { device: 10, tenant: 50 } };
		const targets = laneTargets(meta.tenant_id, messages, limits).map((t) => ({
			key: t.key,
			cost: t.cost,
			policy: t.policies[0],
		}));
		const t = meta.tenant_id;
		expect(targets.map(({ key, cost }) => [key, cost])).toEqual([
			[`lane:${t}:live:tenant`, 5],
			[`lane:${t}:live:device:a`, 3],
			[`lane:${t}:live:device:b`, 2],
			[`lane:${t}:backfill:tenant`, 4],
			[`lane:${t}:backfill:device:a`, 4],
		]);
		// A bucket always holds one full batch, whatever its rate.
		expect(targets[4]?.policy).toMatchObject({
			name: "backfill-ingest-device",
			limit: 10,
			windowSeconds: 60,
			burst: 500,
		});
	});
});
