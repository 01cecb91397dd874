import { describe, expect, it } from "vitest";
import type { ZoneCount } from "../../../src/devices/slots/fleet-shape";
import { shapeFleet, shapedOffsetSeconds } from "../../../src/devices/slots/fleet-shape";
import type { ReportWindow } from "../../../src/devices/slots/domain";
import { DEFAULT_REPORT_WINDOW, slotFor, slotFraction } from "../../../src/devices/slots/domain";

const NIGHT = "2026-11-18";
// A fleet spread like real vending-machine populations: Japan and the US dominate.
const FLEET: ZoneCount[] = [
	["Asia/Tokyo", 18],
	["America/New_York", 14],
	["America/Chicago", 9],
	["America/Los_Angeles", 8],
	["America/Denver", 3],
	["Europe/Berlin", 8],
	["Europe/London", 6],
	["Europe/Paris", 5],
	["Europe/Madrid", 3],
	["Asia/Shanghai", 7],
	["Asia/Seoul", 5],
	["America/Sao_Paulo", 4],
	["Australia/Sydney", 3],
	["Asia/Kolkata", 3],
	["America/Mexico_City", 3],
	["Asia/Singapore", 1],
].map(([timezone, share]) => ({ timezone: String(timezone), count: Number(share) * 1000 }));

/** Places every device of the fleet and counts arrivals per UTC minute. */
function arrivals(zones: ZoneCount[], window: ReportWindow, shaped: boolean): Map<number, number> {
	const shape = shapeFleet(zones, window, NIGHT);
	const perMinute = new Map<number, number>();
	for (const zone of zones) {
		for (let i = 0; i < zone.count; i++) {
			const device = { tenantId: "ten_fleet", deviceId: `${zone.timezone}-${i}`, timezone: zone.timezone };
			const slot = slotFor(device, window, NIGHT, shaped ? () => shape.zones.get(zone.timezone) : undefined);
			const minute = Math.floor(slot.at / 60_000);
			perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
			// Every slot stays inside its own zone's window.
			expect(slot.at).toBeGreaterThanOrEqual(slot.windowStart);
			expect(slot.at).toBeLessThan(slot.windowStart + window.durationMinutes * 60_000);
		}
	}
	return perMinute;
}

function peakToMean(perMinute: Map<number, number>): number {
	const counts = [...perMinute.values()];
	const mean = counts.reduce((s, c) => s + c, 0) / counts.length;
	return Math.max(...counts) / mean;
}

describe("fleet-aware report shaping", () => {
	it("flattens a realistic multi-zone fleet to a near-constant arrival rate", { timeout: 90_000 }, () => {
		const uniform = peakToMean(arrivals(FLEET, DEFAULT_REPORT_WINDOW, false));
		const shaped = peakToMean(arrivals(FLEET, DEFAULT_REPORT_WINDOW, true));
		expect(uniform).toBeGreaterThan(2.5); // zones overlap: the Tokyo/Seoul hours carry a multiple
		expect(shaped).toBeLessThanOrEqual(1.5);
	});

	it("finds the lowest level at which every zone fits its window", () => {
		// Two zones with the same window: 3,000 devices over 120 minutes can never go below 25/min.
		const same = shapeFleet(
			[
				{ timezone: "Europe/Berlin", count: 2000 },
				{ timezone: "Europe/Paris", count: 1000 },
			],
			DEFAULT_REPORT_WINDOW,
			NIGHT,
		);
		expect(same.level).toBeCloseTo(25, 3);
		// Disjoint windows: each zone alone sets the level.
		const apart = shapeFleet(
			[
				{ timezone: "Asia/Tokyo", count: 1200 },
				{ timezone: "America/New_York", count: 600 },
			],
			DEFAULT_REPORT_WINDOW,
			NIGHT,
		);
		expect(apart.level).toBeCloseTo(10, 3);
	});

	it("gives each zone a cumulative curve ending at 1, and one zone alone stays uniform", () => {
		const alone = shapeFleet([{ timezone: "Europe/Berlin", count: 12_000 }], DEFAULT_REPORT_WINDOW, NIGHT);
		const curve = alone.zones.get("Europe/Berlin") ?? [];
		expect(curve).toHaveLength(120);
		expect(curve.at(-1)).toBeCloseTo(1, 9);
		curve.forEach((v, i) => expect(v).toBeCloseTo((i + 1) / 120, 5));
		expect(Math.abs(shapedOffsetSeconds(curve, 0.5) - 3600)).toBeLessThanOrEqual(1);
	});

	it("is deterministic: the same fleet gives the same slot to the same device", () => {
		const a = shapeFleet(FLEET, DEFAULT_REPORT_WINDOW, NIGHT).zones.get("Asia/Tokyo") ?? [];
		const b = shapeFleet(FLEET.toReversed(), DEFAULT_REPORT_WINDOW, NIGHT).zones.get("Asia/Tokyo") ?? [];
		const fraction = slotFraction("ten_x", "vm-42");
		expect(shapedOffsetSeconds(a, fraction)).toBe(shapedOffsetSeconds(b, fraction));
	});

	it("keeps one slot per device on a daylight-saving night", () => {
		const night = "2026-03-29"; // Europe springs forward at 02:00 local
		const zones = [
			{ timezone: "Europe/Berlin", count: 500 },
			{ timezone: "Asia/Tokyo", count: 500 },
		];
		const shape = shapeFleet(zones, DEFAULT_REPORT_WINDOW, night);
		const seen = new Set<number>();
		for (let i = 0; i < 500; i++) {
			const slot = slotFor(
				{ tenantId: "t", deviceId: `d${i}`, timezone: "Europe/Berlin" },
				DEFAULT_REPORT_WINDOW,
				night,
				() => shape.zones.get("Europe/Berlin"),
			);
			expect(slot.at - slot.windowStart).toBeLessThan(120 * 60_000);
			seen.add(slot.at);
		}
		expect(seen.size).toBeGreaterThan(400);
	});
});
