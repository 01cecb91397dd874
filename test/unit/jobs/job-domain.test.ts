import { describe, expect, it } from "vitest";
import { backoffMs, nextAttemptAt } from "../../../src/jobs/backoff";
import { PRIORITY_PATTERN, splitClaims } from "../../../src/jobs/priority";
import { nextOccurrence } from "../../../src/jobs/schedules/domain";
import { nextStateAfter } from "../../../src/jobs/domain";
import { percentile } from "../../../src/platform/percentiles";

describe("backoff with full jitter", () => {
	it("doubles the ceiling per attempt and scales it by the injected random", () => {
		const opts = { baseMs: 1_000, capMs: 60_000 };
		expect(backoffMs(1, () => 0.5, opts)).toBe(500);
		expect(backoffMs(2, () => 0.5, opts)).toBe(1_000);
		expect(backoffMs(4, () => 0.999, opts)).toBe(7_992);
		expect(backoffMs(3, () => 0, opts)).toBe(0);
	});

	it("is capped however many attempts have failed", () => {
		expect(backoffMs(40, () => 0.999, { baseMs: 1_000, capMs: 60_000 })).toBe(59_940);
		expect(backoffMs(10_000, () => 0.5, { baseMs: 1_000, capMs: 60_000 })).toBe(30_000);
	});

	it("schedules the retry from the injected clock", () => {
		expect(
			nextAttemptAt(
				3,
				() => 1_000_000,
				() => 0.25,
				{ baseMs: 1_000, capMs: 60_000 },
			),
		).toBe(1_001_000);
	});
});

describe("attempt outcomes", () => {
	it("retries while attempts remain, then leaves the job dead", () => {
		const failed = { kind: "failed" as const, error: "boom", retry: true };
		expect(nextStateAfter(failed, 1, 2, 100, 50)).toEqual({ status: "failed", readyAt: 150 });
		expect(nextStateAfter(failed, 2, 2, 100, 50)).toEqual({ status: "failed", readyAt: 150 });
		expect(nextStateAfter(failed, 3, 2, 100, 50)).toEqual({ status: "dead" });
		expect(nextStateAfter({ ...failed, retry: false }, 1, 5, 100, 50)).toEqual({ status: "dead" });
		expect(nextStateAfter({ kind: "completed", result: 1 }, 3, 2, 100, 50)).toEqual({ status: "completed" });
	});
});

describe("weighted priority", () => {
	it("gives 5 high, 3 medium and 1 low in any 9 consecutive claims", () => {
		for (let offset = 0; offset < PRIORITY_PATTERN.length; offset++) {
			expect(splitClaims(9, offset)).toEqual({ high: 5, medium: 3, low: 1 });
		}
	});

	it("never starves low: it appears within every 9 slots", () => {
		let seen = 0;
		for (let i = 0; i < 90; i++) if (splitClaims(1, i).low === 1) seen++;
		expect(seen).toBe(10);
	});
});

describe("schedules across daylight-saving changes (America/New_York)", () => {
	const tz = "America/New_York";
	it("fires a 01:30 daily job once on the night 01:30 happens twice", () => {
		const first = nextOccurrence("30 1 * * *", tz, Date.parse("2026-10-31T12:00:00Z"));
		expect(new Date(first ?? 0).toISOString()).toBe("2026-11-01T05:30:00.000Z");
		const second = nextOccurrence("30 1 * * *", tz, first ?? 0);
		expect(new Date(second ?? 0).toISOString()).toBe("2026-11-02T06:30:00.000Z");
	});

	it("fires a 02:30 daily job once on the night 02:30 does not exist", () => {
		const first = nextOccurrence("30 2 * * *", tz, Date.parse("2026-03-07T12:00:00Z"));
		expect(new Date(first ?? 0).toISOString()).toBe("2026-03-08T07:00:00.000Z");
		const second = nextOccurrence("30 2 * * *", tz, first ?? 0);
		expect(new Date(second ?? 0).toISOString()).toBe("2026-03-09T06:30:00.000Z");
	});

	it("fires an hourly job 25 times on the 25-hour day, each instant once", () => {
		let t = Date.parse("2026-11-01T04:00:00Z") - 1;
		const runs: number[] = [];
		for (;;) {
			const next = nextOccurrence("0 * * * *", tz, t);
			if (next === null || next >= Date.parse("2026-11-02T05:00:00Z")) break;
			runs.push(next);
			t = next;
		}
		expect(runs.length).toBe(25);
		expect(new Set(runs).size).toBe(25);
	});
});

describe("percentiles", () => {
	it("uses the nearest rank", () => {
		const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
		expect(percentile(xs, 50)).toBe(50);
		expect(percentile(xs, 99)).toBe(99);
		expect(percentile([], 50)).toBeNull();
	});
});
