import { describe, expect, it } from "vitest";
import type { Lease, LockMode, LockRequest, LockState } from "../../../src/locks/domain";
import {
	canGrantNow,
	EMPTY_LOCK,
	expireLeases,
	grantLease,
	promoteWaiters,
	releaseLease,
} from "../../../src/locks/domain";

type Waiter = LockRequest & { arrival: number };

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * Drives the pure lock with random arrivals, releases and clock steps, the way the Durable Object
 * does (expire, then promote, after every change), and checks the invariants after each step.
 */
function simulate(seed: number, steps: number): { grants: Lease[]; grantedArrivals: number[] } {
	const next = random(seed);
	let state: LockState = EMPTY_LOCK;
	let queue: Waiter[] = [];
	let now = 0;
	let arrivals = 0;
	const grants: Lease[] = [];
	const grantedArrivals: number[] = [];
	const record = (granted: { waiter: Waiter; lease: Lease }[]) => {
		for (const g of granted) {
			grants.push(g.lease);
			grantedArrivals.push(g.waiter.arrival);
		}
	};
	for (let step = 0; step < steps; step++) {
		const roll = next();
		if (roll < 0.45) {
			const mode: LockMode = next() < 0.6 ? "shared" : "exclusive";
			const request: Waiter = { owner: `c${arrivals}`, mode, ttlMs: 1 + Math.floor(next() * 50), arrival: arrivals++ };
			if (canGrantNow(state, queue.length, mode)) {
				const out = grantLease(state, request, now);
				state = out.state;
				record([{ waiter: request, lease: out.lease }]);
			} else {
				queue.push(request);
			}
		} else if (roll < 0.75 && state.leases.length > 0) {
			const lease = state.leases[Math.floor(next() * state.leases.length)];
			if (!lease) continue;
			const out = releaseLease(state, { owner: lease.owner, token: lease.token }, lease.owner);
			if (!out.ok) throw new Error(`release refused: ${out.code}`);
			state = out.state;
		} else {
			now += Math.floor(next() * 20);
			state = expireLeases(state, now).state;
		}
		const promoted = promoteWaiters(state, queue, now);
		state = promoted.state;
		queue = promoted.queue;
		record(promoted.granted);
		// Mutual exclusion: one writer alone, or readers only.
		// (Plain checks: an expect per step would dominate the run time.)
		const writers = state.leases.filter((l) => l.mode === "exclusive").length;
		if (writers > 0 && state.leases.length > 1) throw new Error(`seed ${seed} step ${step}: a writer shares`);
		// Nothing waits that could hold the lock now.
		const head = queue[0];
		if (head && canGrantNow(state, 0, head.mode)) throw new Error(`seed ${seed} step ${step}: head not granted`);
	}
	return { grants, grantedArrivals };
}

describe("the lock model under random schedules", () => {
	it("keeps mutual exclusion, issues strictly increasing tokens and grants in arrival order", () => {
		for (let seed = 1; seed <= 200; seed++) {
			const { grants, grantedArrivals } = simulate(seed, 300);
			expect(grants.length).toBeGreaterThan(0);
			expect(grants.map((lease) => lease.token)).toEqual(grants.map((_, i) => i + 1));
			// FIFO: whoever arrived first was granted first (no reader overtakes a queued writer).
			expect(grantedArrivals).toEqual([...grantedArrivals].sort((a, b) => a - b));
		}
	});
});
