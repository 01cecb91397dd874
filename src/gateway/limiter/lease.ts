import type { Policy, PolicyState, PolicyView } from "./domain";
import { advance, available, capacityOf, consume, credit, leaseDeadline, viewOf, waitMs } from "./domain";

/**
 * One decision of a limited key over all of its policies at once: every policy must have `cost`
 * units or nothing is taken. On success the object may grant more than `cost` — a lease the
 * calling isolate spends locally until `expiresAt` — so the object sees a fraction of the traffic
 * while the total admitted never exceeds what the policies allow.
 */

export type LeaseRequest = {
	cost: number;
	/** Units the caller would like in all (cost included); the grant may be smaller. */
	want: number;
	/** Unused units of the caller's previous lease, given back before deciding. */
	returned?: { units: number; takenAt: number };
};

export type Decision =
	| { allowed: true; granted: number; expiresAt: number; views: PolicyView[]; states: PolicyState[] }
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
	let states = policies.map((p, i) => advance(p, prior[i], now));
	const returned = request.returned;
	if (returned && returned.units > 0) {
		states = states.map((s, i) => credit(policies[i] as Policy, s, returned.units, returned.takenAt));
	}

	const violated = policies.filter((p, i) => available(p, states[i] as PolicyState, now) < request.cost);
	if (violated.length > 0) {
		const waits = violated.map((p) => waitMs(p, states[policies.indexOf(p)] as PolicyState, request.cost, now));
		const unitWaits = violated.map((p) => waitMs(p, states[policies.indexOf(p)] as PolicyState, 1, now) ?? 0);
		return {
			allowed: false,
			retryAfterMs: waits.some((w) => w === null) ? null : Math.max(...(waits as number[])),
			unitWaitMs: Math.max(...unitWaits),
			violated: violated.map((p) => p.name),
			views: policies.map((p, i) => viewOf(p, states[i] as PolicyState, now)),
			states,
		};
	}

	const granted = request.cost + leaseExtra(policies, states, request, now, options);
	states = states.map((s) => consume(s, granted));
	const expiresAt = Math.min(...policies.map((p, i) => leaseDeadline(p, states[i] as PolicyState, now, options.ttlMs)));
	return {
		allowed: true,
		granted,
		expiresAt,
		views: policies.map((p, i) => viewOf(p, states[i] as PolicyState, now)),
		states,
	};
}

function leaseExtra(
	policies: Policy[],
	states: PolicyState[],
	request: LeaseRequest,
	now: number,
	options: LeaseOptions,
): number {
	const wanted = Math.max(0, request.want - request.cost);
	if (wanted === 0 || policies.length === 0) return 0;
	const spare = Math.min(...policies.map((p, i) => available(p, states[i] as PolicyState, now) - request.cost));
	const capacity = Math.min(...policies.map(capacityOf));
	return Math.max(
		0,
		Math.min(wanted, Math.floor(spare * options.maxShareOfSpare), Math.floor(capacity * options.maxShareOfCapacity)),
	);
}
