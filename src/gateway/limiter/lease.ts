import type { Policy, PolicyState, PolicyView } from "./domain";
import {
	advance,
	available,
	capacityOf,
	consume,
	credit,
	delayOf,
	leasable,
	leaseDeadline,
	longestWait,
	viewOf,
	waitMs,
} from "./domain";

/**
 * One decision of a limited key over all of its policies at once: every policy must have `cost`
 * units or nothing is taken. On success the object may grant more than `cost` — a lease the
 * calling isolate spends locally until `expiresAt` — so the object sees a fraction of the traffic
 * while the total admitted never exceeds what the policies allow. Policies that cannot be leased
 * (sliding_window_log, leaky_bucket: see leasable()) make every decision of their key a single one.
 */

export type LeaseRequest = {
	cost: number;
	/** Units the caller would like in all (cost included); the grant may be smaller. */
	want: number;
	/** Unused units of the caller's previous lease, given back before deciding. */
	returned?: { units: number; takenAt: number };
	/**
	 * Units the caller already admitted on its own (an isolate's first-sight allowance, see
	 * src/shortener/redirect-limiter.ts), taken before deciding even when that leaves a token bucket
	 * in debt: the overshoot is paid back by later refusals. Only leasable policies are charged.
	 */
	owed?: number;
	/** A longer lease than the object's default (capped at MAX_LEASE_TTL_MS). */
	ttlMs?: number;
};

/** The longest lease a caller may ask for. */
export const MAX_LEASE_TTL_MS = 60_000;

export type Decision =
	| {
			allowed: true;
			granted: number;
			expiresAt: number;
			/** Milliseconds the request must wait for its turn before it runs (leaky_bucket), else 0. */
			delayMs: number;
			views: PolicyView[];
			states: PolicyState[];
	  }
	| {
			allowed: false;
			/** Milliseconds until `cost` units could be had, or null if never (cost > capacity). */
			retryAfterMs: number | null;
			/** Milliseconds until a single unit could be had: how long an isolate may deny locally. */
			unitWaitMs: number;
			violated: string[];
			views: PolicyView[];
			states: PolicyState[];
	  };

export type LeaseOptions = {
	/** How long a lease may be spent. */
	ttlMs: number;
	/** A lease takes at most this share of what is left after the request's own cost. */
	maxShareOfSpare: number;
	/** ...and at most this share of the smallest capacity, so no isolate hoards a quota. */
	maxShareOfCapacity: number;
};

export const DEFAULT_LEASE_OPTIONS: LeaseOptions = {
	ttlMs: 3000,
	maxShareOfSpare: 0.25,
	maxShareOfCapacity: 0.1,
};

export function decide(
	policies: Policy[],
	prior: (PolicyState | undefined)[],
	request: LeaseRequest,
	now: number,
	options: LeaseOptions = DEFAULT_LEASE_OPTIONS,
): Decision {
	const returned = request.returned;
	const owed = Math.max(0, request.owed ?? 0);
	let held: Held[] = policies.map((policy, i) => {
		const advanced = advance(policy, prior[i], now);
		const state =
			returned && returned.units > 0 ? credit(policy, advanced, returned.units, returned.takenAt) : advanced;
		return { policy, state: owed > 0 && leasable(policy) ? consume(state, owed) : state };
	});

	const violated = held.filter(({ policy, state }) => available(policy, state, now) < request.cost);
	if (violated.length > 0) {
		return {
			allowed: false,
			retryAfterMs: longestWait(violated.map(({ policy, state }) => waitMs(policy, state, request.cost, now))),
			unitWaitMs: Math.max(...violated.map(({ policy, state }) => waitMs(policy, state, 1, now) ?? 0)),
			violated: violated.map(({ policy }) => policy.name),
			views: held.map(({ policy, state }) => viewOf(policy, state, now)),
			states: held.map(({ state }) => state),
		};
	}

	const granted = request.cost + leaseExtra(held, request, now, options);
	held = held.map(({ policy, state }) => ({ policy, state: consume(state, granted) }));
	const ttlMs = Math.min(MAX_LEASE_TTL_MS, Math.max(options.ttlMs, request.ttlMs ?? 0));
	const expiresAt = Math.min(...held.map(({ policy, state }) => leaseDeadline(policy, state, now, ttlMs)));
	return {
		allowed: true,
		granted,
		expiresAt,
		delayMs: Math.max(0, ...held.map(({ policy, state }) => delayOf(policy, state))),
		views: held.map(({ policy, state }) => viewOf(policy, state, now)),
		states: held.map(({ state }) => state),
	};
}

/** A policy with its state, kept together so neither is looked up by index. */
type Held = { policy: Policy; state: PolicyState };

function leaseExtra(held: readonly Held[], request: LeaseRequest, now: number, options: LeaseOptions): number {
	const wanted = Math.max(0, request.want - request.cost);
	if (wanted === 0 || held.length === 0 || !held.every(({ policy }) => leasable(policy))) return 0;
	const spare = Math.min(...held.map(({ policy, state }) => available(policy, state, now) - request.cost));
	const capacity = Math.min(...held.map(({ policy }) => capacityOf(policy)));
	return Math.max(
		0,
		Math.min(wanted, Math.floor(spare * options.maxShareOfSpare), Math.floor(capacity * options.maxShareOfCapacity)),
	);
}
