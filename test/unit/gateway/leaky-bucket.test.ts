import { describe, expect, it } from "vitest";
import type { Policy, PolicyState } from "../../../src/gateway/limiter/domain";
import { capacityOf, leasable, viewOf } from "../../../src/gateway/limiter/domain";
import { decide } from "../../../src/gateway/limiter/lease";
import { arrivals, seeded } from "./random";

const T0 = 1_700_006_400_000;

/**
 * The reference: GCRA's virtual scheduling in its textbook form, on the theoretical arrival time
 * (the implementation keeps the bucket's level instead). A request may go at TAT − burst × T.
 */
function referenceGcra(intervalMs: number, burst: number, maxDelayMs: number) {
	let tat = Number.NEGATIVE_INFINITY;
	return (at: number, cost: number): number | null => {
		const next = Math.max(tat, at) + cost * intervalMs;
		const delay = Math.max(0, next - burst * intervalMs - at);
		if (delay > maxDelayMs + 1e-6) return null;
		tat = next;
		return delay;
	};
}

describe("leaky bucket", () => {
	// 10 per second: one every 100 ms, two at once from idle, held back up to 300 ms.
	const shaper: Policy = {
		name: "shape",
		algorithm: "leaky_bucket",
		limit: 10,
		windowSeconds: 1,
		burst: 2,
		maxDelayMs: 300,
	};

	it("agrees with GCRA on seeded random arrivals; the drained rate never exceeds the rate beyond the burst", () => {
		for (let seed = 1; seed <= 40; seed++) {
			const random = seeded(seed);
			const burst = 1 + Math.floor(random() * 4);
			const policy: Policy = {
				name: "p",
				algorithm: "leaky_bucket",
				limit: 1 + Math.floor(random() * 20),
				windowSeconds: 1 + Math.floor(random() * 3),
				burst,
				maxDelayMs: Math.floor(random() * 2_000),
			};
			const intervalMs = (policy.windowSeconds * 1000) / policy.limit;
			const reference = referenceGcra(intervalMs, burst, policy.maxDelayMs ?? 0);
			const departures: { at: number; cost: number }[] = [];
			let state: PolicyState | undefined;
			for (const { at, cost } of arrivals(random, 300, T0, intervalMs * 2, burst)) {
				const decision = decide([policy], [state], { cost, want: cost * 10 }, at);
				state = decision.states[0];
				// Relative times: at epoch scale a double resolves only ~0.0002 ms, too coarse to compare.
				const expected = reference(at - T0, cost);
				expect(decision.allowed, `seed ${seed} at ${at - T0}`).toBe(expected !== null);
				if (!decision.allowed || expected === null) continue;
				expect(decision.granted).toBe(cost); // never leased
				expect(decision.delayMs).toBeCloseTo(expected, 6);
				expect(decision.delayMs).toBeLessThanOrEqual((policy.maxDelayMs ?? 0) + 1e-6);
				departures.push({ at: at - T0 + decision.delayMs, cost });
			}
			// Over any interval between two departures, at most burst + interval / T units went (and in order).
			let worstExcess = Number.NEGATIVE_INFINITY;
			for (let i = 0; i < departures.length; i++) {
				const from = departures[i]?.at ?? 0;
				let units = 0;
				let previous = from;
				for (const to of departures.slice(i)) {
					units += to.cost;
					worstExcess = Math.max(worstExcess, units - burst - (to.at - from) / intervalMs, previous - to.at);
					previous = to.at;
				}
			}
			expect(worstExcess, `seed ${seed}`).toBeLessThanOrEqual(1e-6);
		}
	});

	it("delays a request until its turn and refuses one whose wait would exceed max_delay_ms", () => {
		let state: PolicyState | undefined;
		const delays: (number | null)[] = [];
		for (let i = 0; i < 7; i++) {
			const decision = decide([shaper], [state], { cost: 1, want: 1 }, T0);
			state = decision.states[0];
			delays.push(decision.allowed ? decision.delayMs : null);
		}
		expect(delays.map((d) => (d === null ? null : Math.round(d)))).toEqual([0, 0, 100, 200, 300, null, null]);
		// A refusal says when a request would be admitted again (within its max delay).
		expect(decide([shaper], [state], { cost: 1, want: 1 }, T0)).toMatchObject({ allowed: false, retryAfterMs: 100 });
		expect(decide([shaper], [state], { cost: 1, want: 1 }, T0 + 100)).toMatchObject({ allowed: true, delayMs: 300 });
	});

	it("is never leased, reports its drain rate, and refuses a cost that could never fit", () => {
		expect(leasable(shaper)).toBe(false);
		expect(capacityOf(shaper)).toBe(5); // burst 2 + 300 ms of drain
		expect(decide([shaper], [undefined], { cost: 6, want: 6 }, T0)).toMatchObject({
			allowed: false,
			retryAfterMs: null,
		});
		const state = decide([shaper], [undefined], { cost: 3, want: 3 }, T0).states[0];
		if (!state) throw new Error("no state");
		expect(viewOf(shaper, state, T0)).toEqual({
			name: "shape",
			limit: 10,
			windowSeconds: 1,
			remaining: 2,
			resetMs: 300,
		});
	});
});
