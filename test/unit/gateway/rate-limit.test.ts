import { describe, expect, it } from "vitest";
import { decide } from "../../../src/gateway/limiter/lease";
import type { Policy, PolicyState } from "../../../src/gateway/limiter/domain";
import {
	advance,
	available,
	consume,
	credit,
	initialState,
	resetMs,
	viewOf,
	waitMs,
} from "../../../src/gateway/limiter/domain";

const T0 = 1_700_006_400_000; // aligned to 10 s, 60 s and day windows

function take(
	policy: Policy,
	state: PolicyState | undefined,
	n: number,
	now: number,
): { ok: boolean; state: PolicyState } {
	const s = advance(policy, state, now);
	if (available(policy, s, now) < n) return { ok: false, state: s };
	return { ok: true, state: consume(s, n) };
}

/** Admits one unit at each of the given times; returns how many were admitted. */
function admitted(policy: Policy, times: number[]): number {
	let state: PolicyState | undefined;
	let count = 0;
	for (const t of times) {
		const r = take(policy, state, 1, t);
		state = r.state;
		if (r.ok) count++;
	}
	return count;
}

describe("token bucket", () => {
	const bucket: Policy = { name: "b", algorithm: "token_bucket", limit: 10, windowSeconds: 1, burst: 20 };

	it("starts full at the burst capacity and admits exactly that many at once", () => {
		expect(admitted(bucket, Array(25).fill(T0))).toBe(20);
	});

	it("refills at limit per window, never above the burst", () => {
		let state = take(bucket, undefined, 20, T0).state;
		expect(available(bucket, advance(bucket, state, T0 + 500), T0 + 500)).toBe(5);
		state = advance(bucket, state, T0 + 60_000);
		expect(available(bucket, state, T0 + 60_000)).toBe(20);
	});

	it("charges a cost greater than one and says how long until it fits", () => {
		let state = take(bucket, undefined, 18, T0).state;
		expect(take(bucket, state, 3, T0).ok).toBe(false);
		state = advance(bucket, state, T0);
		expect(waitMs(bucket, state, 3, T0)).toBe(100);
		expect(take(bucket, state, 3, T0 + 100).ok).toBe(true);
	});

	it("never admits a cost above its capacity", () => {
		expect(waitMs(bucket, initialState(bucket, T0), 21, T0)).toBeNull();
	});

	it("is reported as capacity over the time a full refill takes", () => {
		const view = viewOf(bucket, initialState(bucket, T0), T0);
		expect(view).toMatchObject({ limit: 20, windowSeconds: 2, remaining: 20, resetMs: 0 });
	});
});

describe("fixed window", () => {
	const fixed: Policy = { name: "f", algorithm: "fixed_window", limit: 5, windowSeconds: 10 };

	it("admits limit per aligned window and resets at the boundary", () => {
		expect(admitted(fixed, [...Array(8).fill(T0 + 1000), ...Array(8).fill(T0 + 10_000)])).toBe(10);
	});

	it("allows a burst of 2 x limit across a boundary (the known weakness)", () => {
		expect(admitted(fixed, [...Array(5).fill(T0 + 9_999), ...Array(5).fill(T0 + 10_000)])).toBe(10);
	});

	it("reports the time to the window end", () => {
		const state = take(fixed, undefined, 5, T0 + 4000).state;
		expect(resetMs(fixed, state, T0 + 4000)).toBe(6000);
		expect(waitMs(fixed, state, 1, T0 + 4000)).toBe(6000);
	});
});

describe("sliding window counter", () => {
	const sliding: Policy = { name: "s", algorithm: "sliding_window", limit: 10, windowSeconds: 10 };

	it("weights the previous window by the share still inside the sliding window", () => {
		const full = take(sliding, undefined, 10, T0 + 5000).state; // 10 in window [T0, T0+10s)
		// 25% into the next window: 10 * 0.75 = 7.5 still count, so 2 are available.
		const later = advance(sliding, full, T0 + 12_500);
		expect(available(sliding, later, T0 + 12_500)).toBe(2);
		// Halfway: 5 count, 5 available.
		expect(available(sliding, advance(sliding, full, T0 + 15_000), T0 + 15_000)).toBe(5);
	});

	it("does not allow the fixed window's double burst at a boundary", () => {
		expect(admitted(sliding, [...Array(10).fill(T0 + 9_999), ...Array(10).fill(T0 + 10_000)])).toBe(10);
	});

	it("forgets a window two windows back", () => {
		const full = take(sliding, undefined, 10, T0).state;
		expect(available(sliding, advance(sliding, full, T0 + 20_000), T0 + 20_000)).toBe(10);
	});

	it("computes the wait until the decayed estimate leaves room", () => {
		const full = advance(sliding, take(sliding, undefined, 10, T0).state, T0 + 10_000);
		const wait = waitMs(sliding, full, 5, T0 + 10_000);
		expect(wait).toBe(5000);
		expect(available(sliding, full, T0 + 10_000 + (wait ?? 0))).toBe(5);
	});
});

describe("credit (returning an unused lease)", () => {
	it("returns units to a bucket, capped at capacity", () => {
		const bucket: Policy = { name: "b", algorithm: "token_bucket", limit: 10, windowSeconds: 1 };
		const state = take(bucket, undefined, 4, T0).state;
		expect(available(bucket, credit(bucket, state, 100, T0), T0)).toBe(10);
	});

	it("ignores units taken in a window that has rolled over", () => {
		const fixed: Policy = { name: "f", algorithm: "fixed_window", limit: 5, windowSeconds: 10 };
		const state = advance(fixed, take(fixed, undefined, 5, T0).state, T0 + 10_000);
		const after = take(fixed, state, 5, T0 + 10_000).state;
		expect(available(fixed, credit(fixed, after, 5, T0), T0 + 10_000)).toBe(0);
		expect(available(fixed, credit(fixed, after, 5, T0 + 10_000), T0 + 10_000)).toBe(5);
	});
});

describe("decide (all policies of a key, with leases)", () => {
	const burst: Policy = { name: "burst", algorithm: "token_bucket", limit: 100, windowSeconds: 1 };
	const daily: Policy = { name: "daily", algorithm: "fixed_window", limit: 3, windowSeconds: 86_400 };

	it("takes from every policy or from none, naming the violated one", () => {
		let states: (PolicyState | undefined)[] = [];
		const outcomes = [];
		for (let i = 0; i < 5; i++) {
			const d = decide([burst, daily], states, { cost: 1, want: 1 }, T0);
			states = d.states;
			outcomes.push(d.allowed);
			if (!d.allowed) expect(d.violated).toEqual(["daily"]);
		}
		expect(outcomes).toEqual([true, true, true, false, false]);
		// The denied requests took nothing from the bucket.
		expect(available(burst, states[0] as PolicyState, T0)).toBe(97);
	});

	it("grants a lease bounded by the spare quota and the capacity share", () => {
		const big: Policy = { name: "big", algorithm: "fixed_window", limit: 1000, windowSeconds: 60 };
		const d = decide([big], [], { cost: 1, want: 10_000 }, T0);
		expect(d.allowed && d.granted).toBe(1 + 100); // 10% of capacity
		const small = decide([big], [{ kind: "fixed_window", start: T0, count: 990 }], { cost: 1, want: 10_000 }, T0);
		expect(small.allowed && small.granted).toBe(1 + 2); // a quarter of the 9 spare
	});

	it("never grants more in total than the limit, however large the asks", () => {
		const p: Policy = { name: "p", algorithm: "fixed_window", limit: 500, windowSeconds: 60 };
		let states: (PolicyState | undefined)[] = [];
		let total = 0;
		for (let i = 0; i < 1000; i++) {
			const d = decide([p], states, { cost: 1, want: 5000 }, T0 + i);
			states = d.states;
			if (d.allowed) total += d.granted;
		}
		expect(total).toBe(500);
	});

	it("credits returned units before deciding", () => {
		const p: Policy = { name: "p", algorithm: "fixed_window", limit: 10, windowSeconds: 60 };
		const full: PolicyState = { kind: "fixed_window", start: T0, count: 10 };
		expect(decide([p], [full], { cost: 1, want: 1 }, T0).allowed).toBe(false);
		expect(decide([p], [full], { cost: 1, want: 1, returned: { units: 3, takenAt: T0 } }, T0).allowed).toBe(true);
	});

	it("reports when a single unit will be available for the isolate's deny cache", () => {
		const d = decide([daily], [{ kind: "fixed_window", start: T0, count: 3 }], { cost: 2, want: 2 }, T0 + 1000);
		expect(d.allowed).toBe(false);
		if (!d.allowed) {
			expect(d.unitWaitMs).toBe(86_400_000 - 1000);
			expect(d.retryAfterMs).toBe(86_400_000 - 1000);
		}
	});
});
