import { describe, expect, it } from "vitest";
import {
	DEFAULT_REPORT_WINDOW,
	nextReportAt,
	nextSlot,
	reportTiming,
	slotFor,
	slotFraction,
	slotOffsetSeconds,
} from "../../../src/devices/slots/domain";
import type { ReportWindow, SlotDevice } from "../../../src/devices/slots/domain";
import { checkCapacity } from "../../../src/devices/slots/capacity";
import { addDays, instantOfWallTime, localDateAt, offsetAt, wallTimeAt } from "../../../src/platform/time-zones";

const HOUR = 3_600_000;
const ZONES = [
	"UTC",
	"America/New_York",
	"America/Los_Angeles",
	"America/Sao_Paulo",
	"America/Santiago",
	"Europe/Berlin",
	"Europe/London",
	"Africa/Lagos",
	"Asia/Kolkata",
	"Asia/Kathmandu",
	"Asia/Tokyo",
	"Australia/Lord_Howe",
	"Australia/Adelaide",
	"Pacific/Auckland",
	"Pacific/Chatham",
	"Pacific/Kiritimati",
	"Pacific/Pago_Pago",
	"Asia/Tehran",
	"America/St_Johns",
];

function device(deviceId: string, timezone: string): SlotDevice {
	return { tenantId: "ten_test", deviceId, timezone };
}

/** Every slot of a device from night `from` for `nights` nights. */
function slotsOver(d: SlotDevice, window: ReportWindow, from: string, nights: number) {
	return Array.from({ length: nights }, (_, i) => slotFor(d, window, addDays(from, i)));
}

describe("slot assignment", () => {
	it("spreads 100,000 device ids uniformly over the window (chi-square over 120 one-minute bins)", () => {
		const bins = Array.from({ length: 120 }, () => 0);
		for (let i = 0; i < 100_000; i++) {
			const minute = Math.floor(
				slotOffsetSeconds({ tenantId: "ten_a", deviceId: `vm-${i}` }, DEFAULT_REPORT_WINDOW) / 60,
			);
			bins[minute] = (bins[minute] ?? 0) + 1;
		}
		const expected = 100_000 / 120;
		const chiSquare = bins.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
		// 119 degrees of freedom: mean 119, sd 15.4; 200 is > 5 sd out.
		expect(chiSquare).toBeLessThan(200);
		expect(Math.max(...bins) / expected).toBeLessThan(1.15);
		expect(Math.min(...bins) / expected).toBeGreaterThan(0.85);
	});

	it("is deterministic per tenant and device, and differs across tenants", () => {
		expect(slotFraction("ten_a", "vm-1")).toBe(slotFraction("ten_a", "vm-1"));
		expect(slotFraction("ten_a", "vm-1")).not.toBe(slotFraction("ten_b", "vm-1"));
		expect(slotFraction("ten_a", "vm-1")).not.toBe(slotFraction("ten_a", "vm-2"));
		const d = device("vm-7", "Europe/Berlin");
		const first = slotFor(d, DEFAULT_REPORT_WINDOW, "2026-06-01");
		const again = slotFor(d, DEFAULT_REPORT_WINDOW, "2026-06-01");
		expect(again).toEqual(first);
	});

	it("places each night's slot inside the local window in many time zones", () => {
		const window = { startMinute: 30, durationMinutes: 90 };
		for (const tz of ZONES) {
			for (let i = 0; i < 50; i++) {
				const d = device(`m-${tz}-${i}`, tz);
				for (const night of ["2026-01-15", "2026-07-15"]) {
					const slot = slotFor(d, window, night);
					const wall = wallTimeAt(tz, slot.at);
					const minuteOfDay = wall.hour * 60 + wall.minute;
					expect(localDateAt(tz, slot.at)).toBe(night);
					expect(minuteOfDay).toBeGreaterThanOrEqual(30);
					expect(minuteOfDay).toBeLessThan(120);
				}
			}
		}
	});

	it("rolls the surge around the globe: Tokyo's window opens before Berlin's before New York's", () => {
		const start = (tz: string) => instantOfWallTime(tz, "2026-03-01", 0);
		expect(start("Asia/Tokyo")).toBeLessThan(start("Europe/Berlin"));
		expect(start("Europe/Berlin")).toBeLessThan(start("America/New_York"));
		expect(start("Europe/Berlin") - start("Asia/Tokyo")).toBe(8 * HOUR);
	});
});

describe("daylight-saving transitions", () => {
	it("resolves wall times in a gap forward and in a repeated hour to the first occurrence", () => {
		// New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
		expect(new Date(instantOfWallTime("America/New_York", "2026-03-08", 150)).toISOString()).toBe(
			"2026-03-08T07:30:00.000Z",
		);
		// 2026-11-01: 01:30 happens twice (EDT then EST); the first is 05:30Z.
		expect(new Date(instantOfWallTime("America/New_York", "2026-11-01", 90)).toISOString()).toBe(
			"2026-11-01T05:30:00.000Z",
		);
		// Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
		expect(offsetAt("Australia/Lord_Howe", Date.UTC(2026, 6, 1))).toBe(10.5 * HOUR);
		expect(offsetAt("Australia/Lord_Howe", Date.UTC(2026, 11, 1))).toBe(11 * HOUR);
	});

	const cases: [string, string, ReportWindow][] = [
		["America/New_York", "2026-03-05", { startMinute: 60, durationMinutes: 120 }], // window 01:00-03:00 spans the gap
		["America/New_York", "2026-10-29", { startMinute: 0, durationMinutes: 180 }], // spans the repeated 01:00 hour
		["Europe/Berlin", "2026-03-26", { startMinute: 90, durationMinutes: 120 }],
		["Europe/Berlin", "2026-10-22", { startMinute: 90, durationMinutes: 120 }],
		["Australia/Lord_Howe", "2026-04-02", { startMinute: 60, durationMinutes: 120 }],
		["Australia/Lord_Howe", "2026-10-01", { startMinute: 60, durationMinutes: 120 }],
		["America/Santiago", "2026-09-03", DEFAULT_REPORT_WINDOW], // Chile springs forward at local midnight
		["America/Santiago", "2026-04-02", DEFAULT_REPORT_WINDOW],
	];

	it.each(cases)("gives every device exactly one slot per night across transitions in %s", (tz, from, window) => {
		for (let i = 0; i < 300; i++) {
			const d = device(`dst-${i}`, tz);
			const slots = slotsOver(d, window, from, 8);
			for (let k = 1; k < slots.length; k++) {
				const gap = (slots[k]?.at ?? 0) - (slots[k - 1]?.at ?? 0);
				// Consecutive nights are 23, 23.5, 24, 24.5 or 25 hours apart: never 0 (a doubled slot) or 48 (a dropped one).
				expect(gap).toBeGreaterThanOrEqual(23 * HOUR);
				expect(gap).toBeLessThanOrEqual(25 * HOUR);
			}
			for (const slot of slots) {
				expect(slot.at - slot.windowStart).toBeGreaterThanOrEqual(0);
				expect(slot.at - slot.windowStart).toBeLessThan(window.durationMinutes * 60_000);
			}
			// Walking forward with nextSlot visits exactly these slots, one per night, none twice.
			let now = (slots[0]?.at ?? 0) - 1;
			const visited: string[] = [];
			for (let k = 0; k < slots.length; k++) {
				const next = nextSlot(d, window, now);
				visited.push(next.night);
				now = next.at;
			}
			expect(visited).toEqual(slots.map((s) => s.night));
		}
	});

	it("keeps the window's real length on a 23-hour and a 25-hour night", () => {
		const d = device("vm-1", "Europe/Berlin");
		const window = { startMinute: 60, durationMinutes: 180 };
		for (const night of ["2026-03-29", "2026-10-25"]) {
			const slot = slotFor(d, window, night);
			expect(slot.windowStart).toBe(instantOfWallTime("Europe/Berlin", night, 60));
			expect(slot.at - slot.windowStart).toBe(slotOffsetSeconds(d, window) * 1000);
		}
	});
});

describe("next report and in-slot flag", () => {
	const d = device("vm-42", "America/New_York");
	const slot = slotFor(d, DEFAULT_REPORT_WINDOW, "2026-05-10");

	it("returns the next slot as UTC ISO-8601", () => {
		expect(nextReportAt(d, DEFAULT_REPORT_WINDOW, slot.at - 1000)).toBe(new Date(slot.at).toISOString());
		expect(nextReportAt(d, DEFAULT_REPORT_WINDOW, slot.at)).toBe(
			new Date(slotFor(d, DEFAULT_REPORT_WINDOW, "2026-05-11").at).toISOString(),
		);
	});

	it("flags a report in its slot and sends every report of the night on to tomorrow's slot", () => {
		const tomorrow = new Date(slotFor(d, DEFAULT_REPORT_WINDOW, "2026-05-11").at).toISOString();
		expect(reportTiming(d, DEFAULT_REPORT_WINDOW, slot.at + 5000)).toEqual({
			next_report_at: tomorrow,
			in_slot: true,
			slot_at: new Date(slot.at).toISOString(),
			night: "2026-05-10",
		});
		const late = reportTiming(d, DEFAULT_REPORT_WINDOW, slot.at + 3 * HOUR);
		expect(late).toMatchObject({ next_report_at: tomorrow, in_slot: false, night: "2026-05-10" });
		// The evening before the window: this is for tonight's night, whose slot is next.
		const evening = reportTiming(d, DEFAULT_REPORT_WINDOW, slot.windowStart - 2 * HOUR);
		expect(evening).toMatchObject({
			next_report_at: new Date(slot.at).toISOString(),
			in_slot: false,
			night: "2026-05-09",
		});
	});
});

describe("capacity", () => {
	const now = Date.UTC(2026, 4, 10, 12);

	it("accepts a window of at least devices / sustainable rate and says when it is too short", () => {
		// 100,000 machines in one zone at 50 reports/s need 2,000 s = 34 minutes.
		const ok = checkCapacity([{ timezone: "Europe/Berlin", devices: 100_000 }], DEFAULT_REPORT_WINDOW, 50, now);
		expect(ok).toMatchObject({ sufficient: true, warning: null, required_window_minutes: 34 });
		const short = checkCapacity(
			[{ timezone: "Europe/Berlin", devices: 100_000 }],
			{ startMinute: 0, durationMinutes: 20 },
			50,
			now,
		);
		expect(short.sufficient).toBe(false);
		expect(short.required_window_minutes).toBe(34);
		expect(short.warning).toContain("at least 34 minutes");
	});

	it("adds up zones whose windows overlap in UTC and not those that do not", () => {
		const window = { startMinute: 0, durationMinutes: 60 };
		const sameOffset = checkCapacity(
			[
				{ timezone: "Europe/Berlin", devices: 90_000 },
				{ timezone: "Europe/Paris", devices: 90_000 },
			],
			window,
			50,
			now,
		);
		expect(sameOffset.peak_reports_per_second).toBe(50);
		const apart = checkCapacity(
			[
				{ timezone: "Asia/Tokyo", devices: 90_000 },
				{ timezone: "America/New_York", devices: 90_000 },
			],
			window,
			50,
			now,
		);
		expect(apart.peak_reports_per_second).toBe(25);
	});
});
