import { describe, expect, it } from "vitest";
import type { Policy, PolicyState } from "../../../src/gateway/limiter/domain";
import { advance, available, capacityOf, leasable, viewOf } from "../../../src/gateway/limiter/domain";
import { decide } from "../../../src/gateway/limiter/lease";
import { arrivals, seeded } from "./random";

const T0 = 1_700_006_400_000;

/** The reference: every admitted unit with its time; admit when the window (t − w, t] has room. */
function referenceLog(limit: number, windowMs: number) {
	const admitted: { at: number; cost: number }[] = [];
	const inWindow = (t: number) =>
		admitted.filter((a) => a.at > t - windowMs && a.at <= t).reduce((sum, a) => sum + a.cost, 0);
	return {
		admitted,
		inWindow,
		take(at: number, cost: number): boolean {
			if (inWindow(at) + cost > limit) return false;
			admitted.push({ at, cost });
			return true;
		},
	};
}

describe("sliding window log", () => {
	const log: Policy = { name: "log", algorithm: "sliding_window_log", limit: 5, windowSeconds: 10 };

	it("agrees with the reference model on seeded random arrivals, and never exceeds the limit in any window", () => {
		for (let seed = 1; seed <= 40; seed++) {
			const random = seeded(seed);
			const limit = 1 + Math.floor(random() * 12);
			const policy: Policy = {
				name: "p",
				algorithm: "sliding_window_log",
				limit,
				windowSeconds: 1 + Math.floor(random() * 5),
			};
			const reference = referenceLog(limit, policy.windowSeconds * 1000);
			let state: PolicyState | undefined;
			for (const { at, cost } of arrivals(random, 400, T0, 400, 3)) {
				const decision = decide([policy], [state], { cost, want: cost * 10 }, at);
				state = decision.states[0];
				expect(decision.allowed, `seed ${seed} at ${at - T0}`).toBe(reference.take(at, cost));
				if (decision.allowed)
					expect(decision.granted).toBe(cost); // never leased
				else if (decision.retryAfterMs !== null) {
					// The wait it names is exact: the request fits then, and not a millisecond earlier.
					const later = decision.retryAfterMs;
					const fitsAt = (t: number) => reference.inWindow(t) + cost <= limit;
					expect(fitsAt(at + later), `seed ${seed}`).toBe(true);
					if (later > 0) expect(fitsAt(at + later - 1), `seed ${seed}`).toBe(false);
				}
			}
			for (const { at } of reference.admitted) expect(reference.inWindow(at)).toBeLessThanOrEqual(limit);
		}
	});

	it("has no boundary burst: a full window blocks until its oldest entries age out", () => {
		let state: PolicyState | undefined;
		for (let i = 0; i < 5; i++) state = decide([log], [state], { cost: 1, want: 1 }, T0 + 9_000 + i).states[0];
		// A fixed window would reset at T0 + 10 s; the log still holds all five there.
		const atBoundary = decide([log], [state], { cost: 1, want: 1 }, T0 + 10_001);
		expect(atBoundary).toMatchObject({ allowed: false, retryAfterMs: 18_999 - 10_001 + 1 });
		expect(decide([log], [state], { cost: 2, want: 2 }, T0 + 19_001)).toMatchObject({ allowed: true });
	});

	it("prunes aged-out entries and reports the time until the log is empty", () => {
		let state: PolicyState | undefined;
		state = decide([log], [state], { cost: 2, want: 2 }, T0).states[0];
		state = decide([log], [state], { cost: 1, want: 1 }, T0 + 4_000).states[0];
		const later = advance(log, state, T0 + 12_000);
		expect(later).toMatchObject({ entries: [{ at: T0 + 4_000, n: 1 }] });
		expect(available(log, later, T0 + 12_000)).toBe(4);
		expect(viewOf(log, later, T0 + 12_000)).toEqual({
			name: "log",
			limit: 5,
			windowSeconds: 10,
			remaining: 4,
			resetMs: 2_000,
		});
	});

	it("is never leased and refuses a cost above its limit for good", () => {
		expect(leasable(log)).toBe(false);
		expect(capacityOf(log)).toBe(5);
		expect(decide([log], [undefined], { cost: 6, want: 6 }, T0)).toMatchObject({ allowed: false, retryAfterMs: null });
	});
});
