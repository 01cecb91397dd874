import { describe, expect, it } from "vitest";
import type { AlertState } from "../../../src/metrics/alert-state";
import { conditionHolds, nextAlertState } from "../../../src/metrics/alert-state";

const INACTIVE: AlertState = { state: "inactive", activeSince: null, firedAt: null, resolvedAt: null };

describe("the alert state machine", () => {
	it("goes pending, then firing once the condition held for `for`, then resolved", () => {
		const pending = nextAlertState(INACTIVE, true, 1_000, 120);
		expect(pending).toEqual({ state: "pending", activeSince: 1_000, firedAt: null, resolvedAt: null });
		expect(nextAlertState(pending, true, 60_000, 120).state).toBe("pending");
		const firing = nextAlertState(pending, true, 121_000, 120);
		expect(firing).toEqual({ state: "firing", activeSince: 1_000, firedAt: 121_000, resolvedAt: null });
		expect(nextAlertState(firing, true, 180_000, 120)).toEqual(firing);
		const resolved = nextAlertState(firing, false, 200_000, 120);
		expect(resolved).toMatchObject({ state: "resolved", firedAt: 121_000, resolvedAt: 200_000 });
		expect(nextAlertState(resolved, false, 260_000, 120)).toEqual(resolved);
		expect(nextAlertState(resolved, true, 300_000, 120)).toMatchObject({ state: "pending", activeSince: 300_000 });
	});

	it("fires at once with for = 0 and drops a pending rule whose condition stopped", () => {
		expect(nextAlertState(INACTIVE, true, 5, 0).state).toBe("firing");
		const pending = nextAlertState(INACTIVE, true, 5, 60);
		expect(nextAlertState(pending, false, 10, 60)).toEqual(INACTIVE);
	});

	it("compares with each operator and never holds without data", () => {
		expect(conditionHolds(5, ">", 4)).toBe(true);
		expect(conditionHolds(4, ">", 4)).toBe(false);
		expect(conditionHolds(4, ">=", 4)).toBe(true);
		expect(conditionHolds(3, "<", 4)).toBe(true);
		expect(conditionHolds(4, "<=", 4)).toBe(true);
		expect(conditionHolds(null, "<", 4)).toBe(false);
	});
});
