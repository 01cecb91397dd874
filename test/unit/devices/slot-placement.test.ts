import { describe, expect, it } from "vitest";
import type { ReportWindow } from "../../../src/devices/slots/domain";
import { DEFAULT_REPORT_WINDOW, slotFor, slotFraction, slotOffsetSeconds } from "../../../src/devices/slots/domain";
import type { ZoneCount } from "../../../src/devices/slots/fleet-shape";
import { shapeFleet } from "../../../src/devices/slots/fleet-shape";
import { goldenFraction, goldenSeat, starDiscrepancy } from "../../../src/devices/slots/placement";

const NIGHT = "2026-11-18";
// Shares (%) of a fleet spread like real vending-machine populations (as bench/sim/fleet.mjs).
const SHARES: [string, number][] = [
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
];

function fleetOf(machines: number): ZoneCount[] {
	return SHARES.map(([timezone, share]) => ({ timezone, count: Math.max(1, Math.round((machines * share) / 100)) }));
}

/** Places every machine by rank and returns arrivals per UTC minute, checking each slot on the way. */
function arrivals(
	zones: ZoneCount[],
	window: ReportWindow,
	night: string,
): { perMinute: Map<number, number>; level: number } {
	const fleet = shapeFleet(zones, window, night);
	const perMinute = new Map<number, number>();
	let level = 0;
	for (const zone of zones) {
		const plan = fleet.plans.get(zone.timezone);
		level = plan?.level ?? level;
		const seen = new Set<number>();
		for (let rank = 0; rank < zone.count; rank++) {
			const device = { tenantId: "ten_p", deviceId: `${zone.timezone}-${rank}`, timezone: zone.timezone, rank };
			const slot = slotFor(device, window, night, () => plan);
			expect(slot.at).toBeGreaterThanOrEqual(slot.windowStart);
			expect(slot.at).toBeLessThan(slot.windowStart + window.durationMinutes * 60_000);
			seen.add(slot.at);
			const minute = Math.floor(slot.at / 60_000);
			perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
		}
		// Whole seats: distinct machines of a zone never share a second unless the level is over 60/min.
		if (level <= 60) expect(seen.size).toBe(zone.count);
	}
	return { perMinute, level };
}

describe("low-discrepancy slot placement", () => {
	it("keeps the golden-ratio sequence's star discrepancy within (1 + ln n / 2) / n for every fleet size; a hash does not", () => {
		for (const n of [10, 100, 1_000, 10_000, 100_000]) {
			const bound = (1 + Math.log(n) / 2) / n;
			const golden = Array.from({ length: n }, (_, r) => goldenFraction(r));
			expect(starDiscrepancy(golden), `n=${n}`).toBeLessThanOrEqual(bound);
			if (n >= 1_000) {
				const hashed = Array.from({ length: n }, (_, r) => slotFraction("ten_p", `vm-${r}`));
				expect(starDiscrepancy(hashed), `hash n=${n}`).toBeGreaterThan(bound);
			}
		}
	});

	it("gives a rank the same value whatever the fleet size, and deals seats as a permutation", () => {
		expect(goldenFraction(7)).toBe(goldenFraction(7));
		for (const count of [1, 2, 17, 1_000]) {
			const seats = Array.from({ length: count }, (_, r) => goldenSeat(r, count));
			expect(new Set(seats).size).toBe(count);
			expect(Math.min(...seats)).toBe(0);
			expect(Math.max(...seats)).toBe(count - 1);
		}
		// A rank the cached fleet does not know yet still gets a seat inside the count.
		expect(goldenSeat(1_500, 1_000)).toBeGreaterThanOrEqual(0);
		expect(goldenSeat(1_500, 1_000)).toBeLessThan(1_000);
	});

	it.each([1_000, 10_000, 100_000])(
		"keeps the busiest UTC minute within 1.3x the mean at %i machines, never over the plan's level",
		{ timeout: 60_000 },
		(machines) => {
			const zones = fleetOf(machines);
			const { perMinute, level } = arrivals(zones, DEFAULT_REPORT_WINDOW, NIGHT);
			const counts = [...perMinute.values()];
			const total = counts.reduce((s, c) => s + c, 0);
			expect(total).toBe(zones.reduce((s, z) => s + z.count, 0));
			expect(Math.max(...counts)).toBeLessThanOrEqual(level);
			expect(level).toBeLessThanOrEqual(Math.ceil(shapeFleet(zones, DEFAULT_REPORT_WINDOW, NIGHT).level));
			expect(Math.max(...counts) / (total / counts.length)).toBeLessThanOrEqual(1.3);
		},
	);

	it("keeps every slot inside its window and one per machine on a daylight-saving night", () => {
		const zones = [
			{ timezone: "Europe/Berlin", count: 700 },
			{ timezone: "America/New_York", count: 300 },
		];
		const { perMinute } = arrivals(zones, DEFAULT_REPORT_WINDOW, "2026-03-29");
		expect([...perMinute.values()].reduce((s, c) => s + c, 0)).toBe(1_000);
	});

	it("moves existing machines by at most a few seconds when one machine joins a zone of 10,000", () => {
		const window = DEFAULT_REPORT_WINDOW;
		const before = shapeFleet([{ timezone: "Europe/Berlin", count: 10_000 }], window, NIGHT).plans.get("Europe/Berlin");
		const after = shapeFleet([{ timezone: "Europe/Berlin", count: 10_001 }], window, NIGHT).plans.get("Europe/Berlin");
		let worst = 0;
		for (let rank = 0; rank < 10_000; rank++) {
			const device = { tenantId: "t", deviceId: `d${rank}`, rank };
			worst = Math.max(
				worst,
				Math.abs(slotOffsetSeconds(device, window, before) - slotOffsetSeconds(device, window, after)),
			);
		}
		expect(worst).toBeLessThanOrEqual(5);
	});
});
