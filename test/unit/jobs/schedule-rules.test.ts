import { describe, expect, it } from "vitest";
import { alarmRetryDelayMs, scheduleProblem, shortestGapMs } from "../../../src/jobs/schedules/domain";

describe("schedule rules", () => {
	it("accepts a 5-field cron in a real time zone", () => {
		expect(scheduleProblem("*/5 * * * *", "Europe/Berlin")).toBeNull();
		expect(scheduleProblem("* * * * *", "UTC")).toBeNull();
	});

	it("refuses a seconds field and names the minimum interval", () => {
		expect(scheduleProblem("*/10 * * * * *", "UTC")).toMatch(/exactly 5 fields.*minimum interval is 60 s/);
		expect(scheduleProblem("@hourly", "UTC")).toMatch(/exactly 5 fields/);
	});

	it("refuses what croner cannot parse", () => {
		expect(scheduleProblem("61 * * * *", "UTC")).toMatch(/not a valid cron/);
		expect(scheduleProblem("* * * * *", "Mars/Olympus")).toMatch(/not a valid cron/);
	});

	it("measures the shortest gap between the next occurrences", () => {
		expect(shortestGapMs("* * * * *", "UTC", Date.UTC(2026, 0, 1))).toBe(60_000);
		expect(shortestGapMs("0,1 * * * *", "UTC", Date.UTC(2026, 0, 1))).toBe(60_000);
		// A seconds pattern (refused before this check) would be caught here too.
		expect(shortestGapMs("*/10 * * * * *", "UTC", Date.UTC(2026, 0, 1))).toBe(10_000);
	});

	it("backs a failing alarm off from 10 s, doubling, to at most 10 minutes", () => {
		expect([1, 2, 3, 7, 20].map(alarmRetryDelayMs)).toEqual([10_000, 20_000, 40_000, 600_000, 600_000]);
	});
});
