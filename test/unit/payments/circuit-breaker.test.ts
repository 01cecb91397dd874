import { describe, expect, it } from "vitest";
import type { BreakerConfig, BreakerState } from "../../../src/payments/breaker-domain";
import { admitCall, CLOSED, currentState, recordOutcome } from "../../../src/payments/breaker-domain";

const CONFIG: BreakerConfig = { failureThreshold: 3, windowMs: 10_000, cooldownMs: 5_000, trialTimeoutMs: 4_000 };
const fail = { success: false, trial: false };
const ok = { success: true, trial: false };

function failTimes(n: number, start: number, step = 100): BreakerState {
	let s: BreakerState = CLOSED;
	for (let i = 0; i < n; i++) s = recordOutcome(s, CONFIG, start + i * step, fail);
	return s;
}

describe("circuit breaker transitions", () => {
	it("closed admits calls as non-trials", () => {
		expect(admitCall(CLOSED, CONFIG, 0)).toEqual({ admission: { allowed: true, trial: false }, next: CLOSED });
	});

	it("closed stays closed below the threshold and on successes", () => {
		expect(failTimes(2, 0)).toEqual({ state: "closed", failures: [0, 100] });
		expect(recordOutcome(failTimes(2, 0), CONFIG, 300, ok)).toEqual({ state: "closed", failures: [0, 100] });
	});

	it("closed → open at the threshold within the window", () => {
		expect(failTimes(3, 1000)).toEqual({ state: "open", openedAt: 1200 });
	});

	it("failures older than the window do not count", () => {
		const s = recordOutcome(failTimes(2, 0), CONFIG, 10_050, fail);
		expect(s).toEqual({ state: "closed", failures: [100, 10_050] });
		expect(currentState(failTimes(2, 0), CONFIG, 20_000)).toEqual({ state: "closed", failures: [] });
	});

	it("open refuses calls until the cool-down with the time left", () => {
		const open: BreakerState = { state: "open", openedAt: 1000 };
		expect(admitCall(open, CONFIG, 2000)).toEqual({ admission: { allowed: false, retryAfterMs: 4000 }, next: open });
	});

	it("open ignores late outcomes of calls admitted before it opened", () => {
		const open: BreakerState = { state: "open", openedAt: 1000 };
		expect(recordOutcome(open, CONFIG, 1500, fail)).toBe(open);
		expect(recordOutcome(open, CONFIG, 1500, ok)).toBe(open);
	});

	it("open → half-open after the cool-down, admitting exactly one trial", () => {
		const { admission, next } = admitCall({ state: "open", openedAt: 1000 }, CONFIG, 6000);
		expect(admission).toEqual({ allowed: true, trial: true });
		expect(next).toEqual({ state: "half_open", trialStartedAt: 6000 });
		expect(admitCall(next, CONFIG, 6001).admission).toEqual({ allowed: false, retryAfterMs: 3999 });
	});

	it("half-open → closed when the trial succeeds", () => {
		expect(
			recordOutcome({ state: "half_open", trialStartedAt: 6000 }, CONFIG, 6100, { success: true, trial: true }),
		).toEqual(CLOSED);
	});

	it("half-open → open again when the trial fails", () => {
		expect(
			recordOutcome({ state: "half_open", trialStartedAt: 6000 }, CONFIG, 6100, { success: false, trial: true }),
		).toEqual({ state: "open", openedAt: 6100 });
	});

	it("half-open ignores outcomes that are not the trial's", () => {
		const half: BreakerState = { state: "half_open", trialStartedAt: 6000 };
		expect(recordOutcome(half, CONFIG, 6100, fail)).toBe(half);
		expect(recordOutcome(half, CONFIG, 6100, ok)).toBe(half);
	});

	it("half-open replaces a trial that never reported after the trial timeout", () => {
		const { admission, next } = admitCall({ state: "half_open", trialStartedAt: 6000 }, CONFIG, 10_000);
		expect(admission).toEqual({ allowed: true, trial: true });
		expect(next).toEqual({ state: "half_open", trialStartedAt: 10_000 });
	});
});
