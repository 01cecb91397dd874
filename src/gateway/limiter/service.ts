import type { AcquireResult, RateLimiter } from "../../../durable-objects/gateway-rate-limiter";
import type { Policy, PolicyView } from "./domain";
import { leasable, longestWait } from "./domain";
import { DEFAULT_LEASE_OPTIONS } from "./lease";
import type { LimitTarget } from "./route-limits";
import { errorText, log } from "../../platform/log";
import { sleep, withTimeout } from "../../platform/timeout";

/**
 * The isolate's side of rate limiting. Each limited key's decisions are made by its RateLimiter
 * object; to keep that object off most requests, the object may grant a lease of extra units
 * that this isolate spends locally until the lease expires (unused units go back with the next
 * call). Keys known to be over their limit are denied here until their reset time, so a flood of
 * rejected requests never reaches the object. Admission stays exact: an isolate only ever spends
 * units the object has already taken from the quota.
 */

export type TakeOutcome =
	| {
			allowed: true;
			views: PolicyView[];
			degraded: boolean;
			/** Milliseconds the request must wait for its turn before it runs (a leaky_bucket rule), else 0. */
			delayMs: number;
	  }
	| { allowed: false; views: PolicyView[]; violated: string[]; retryAfterMs: number | null; unavailable: boolean };

type Lease = {
	signature: string;
	units: number;
	takenAt: number;
	expiresAt: number;
	views: PolicyView[];
	viewsAt: number;
	deniedUntil: number;
	violated: string[];
	acquiring: boolean;
	waiting: number;
	/** Units spent since the last grant: how much the next lease should ask for. */
	spent: number;
};

type Namespace = DurableObjectNamespace<RateLimiter>;

/** How long an isolate waits for the object before applying the rule's failure mode. */
export const LIMITER_TIMEOUT_MS = 1500;
const MAX_WAIT_FOR_PEER_MS = 40;
const MAX_LEASE_ASK = 5000;
/** The object's lease life when a target asks for none longer (DEFAULT_LEASE_OPTIONS.ttlMs). */
const DEFAULT_LEASE_TTL_MS = DEFAULT_LEASE_OPTIONS.ttlMs;
const MAX_TRACKED_KEYS = 20_000;

// Isolate-wide cache of plain data (no I/O objects): leases and denials per limited key.
const leases = new Map<string, Lease>();

/** Takes `cost` units from every target, or from none of them. */
export async function takeTokens(ns: Namespace, targets: readonly LimitTarget[]): Promise<TakeOutcome> {
	const leased = takeFromLeases(targets);
	if (leased) return leased;
	const outcomes = await Promise.all(targets.map((t) => takeFromKey(ns, t)));
	const denied = outcomes.filter((o): o is Extract<TakeOutcome, { allowed: false }> => !o.allowed);
	if (denied.length === 0) {
		return {
			allowed: true,
			views: outcomes.flatMap((o) => o.views),
			degraded: outcomes.some((o) => o.allowed && o.degraded),
			delayMs: Math.max(0, ...outcomes.map((o) => (o.allowed ? o.delayMs : 0))),
		};
	}
	// Give back what the passing targets took: the request does not run.
	const views = targets.flatMap((t, i) => {
		const outcome = outcomes[i];
		if (!outcome?.allowed) return outcome?.views ?? [];
		refundLocally(t);
		return outcome.views.map((v) => ({ ...v, remaining: v.remaining + t.cost }));
	});
	return {
		allowed: false,
		views,
		violated: denied.flatMap((d) => d.violated),
		retryAfterMs: longestWait(denied.map((d) => d.retryAfterMs)),
		unavailable: denied.some((d) => d.unavailable),
	};
}

/** This isolate's lease of `key` (tests and operators): units left and until when; null when none. */
export function leaseOf(key: string): { units: number; expiresAt: number } | null {
	const lease = leases.get(key);
	return lease === undefined ? null : { units: lease.units, expiresAt: lease.expiresAt };
}

/** The current quota of a key without taking anything (units leased to this isolate count as remaining). */
export async function peekTokens(ns: Namespace, target: LimitTarget): Promise<PolicyView[]> {
	const views = await withTimeout(ns.getByName(target.key).peek(target.policies), LIMITER_TIMEOUT_MS, "rate limiter");
	const lease = leases.get(target.key);
	const spare = lease && lease.signature === signatureOf(target) && lease.expiresAt > Date.now() ? lease.units : 0;
	return views.map((v) => ({ ...v, remaining: v.remaining + spare }));
}

/**
 * The common case without a single await: every target's lease covers the cost. Returns null
 * (having taken nothing) when any target needs its object or is denied.
 */
function takeFromLeases(targets: readonly LimitTarget[]): TakeOutcome | null {
	const now = Date.now();
	const found: { lease: Lease; cost: number }[] = [];
	for (const target of targets) {
		const lease = leases.get(target.key);
		if (
			!lease ||
			lease.signature !== signatureOf(target) ||
			lease.deniedUntil > now ||
			lease.units < target.cost ||
			lease.expiresAt <= now
		)
			return null;
		found.push({ lease, cost: target.cost });
	}
	const views: PolicyView[] = [];
	for (const { lease, cost } of found) {
		lease.units -= cost;
		lease.spent += cost;
		views.push(...leaseViews(lease, now));
	}
	return { allowed: true, views, degraded: false, delayMs: 0 };
}

async function takeFromKey(ns: Namespace, target: LimitTarget): Promise<TakeOutcome> {
	const lease = leaseFor(target);
	for (let waited = 0; ; waited += 2) {
		const now = Date.now();
		if (lease.deniedUntil > now) return deniedLocally(lease, now);
		if (lease.units >= target.cost && lease.expiresAt > now) {
			lease.units -= target.cost;
			lease.spent += target.cost;
			return { allowed: true, views: leaseViews(lease, now), degraded: false, delayMs: 0 };
		}
		// Another request of this isolate is already asking the object: let its lease serve us too
		// (never for unleasable policies: no lease will come, every request asks the object).
		if (!lease.acquiring || waited >= MAX_WAIT_FOR_PEER_MS || !target.policies.every(leasable)) break;
		lease.waiting += target.cost;
		await sleep(2);
		lease.waiting -= target.cost;
	}
	return acquire(ns, target, lease);
}

async function acquire(ns: Namespace, target: LimitTarget, lease: Lease): Promise<TakeOutcome> {
	const returned = lease.units > 0 ? { units: lease.units, takenAt: lease.takenAt } : undefined;
	const want = askFor(target, lease, Date.now());
	lease.units = 0;
	lease.spent = 0;
	lease.acquiring = true;
	let result: AcquireResult;
	try {
		result = await withTimeout<AcquireResult>(
			ns
				.getByName(target.key)
				.acquire(target.policies, { cost: target.cost, want, returned, ttlMs: target.leaseTtlMs }),
			LIMITER_TIMEOUT_MS,
			"rate limiter",
		);
	} catch (error) {
		log.warn("rate limiter unavailable", { key: target.key, error: errorText(error) });
		return target.onFailure === "open"
			? { allowed: true, views: [], degraded: true, delayMs: 0 }
			: {
					allowed: false,
					views: [],
					violated: target.policies.map((p) => p.name),
					retryAfterMs: 1000,
					unavailable: true,
				};
	} finally {
		lease.acquiring = false;
	}
	const at = Date.now();
	lease.views = result.views;
	lease.viewsAt = at;
	if (!result.allowed) {
		lease.deniedUntil = at + result.unitWaitMs;
		lease.violated = result.violated;
		return {
			allowed: false,
			views: leaseViews(lease, at),
			violated: result.violated,
			retryAfterMs: result.retryAfterMs,
			unavailable: false,
		};
	}
	const extra = result.granted - target.cost;
	// Units of a still-running earlier grant stay spendable until the earlier deadline.
	lease.expiresAt = lease.units > 0 ? Math.min(lease.expiresAt, result.expiresAt) : result.expiresAt;
	lease.units += extra;
	lease.takenAt = result.takenAt;
	lease.deniedUntil = 0;
	lease.spent += target.cost;
	return { allowed: true, views: leaseViews(lease, at), degraded: false, delayMs: result.delayMs };
}

/**
 * Units to ask the object for: this request's cost, what this isolate's waiting requests need, and
 * enough for the next lease's life at the pace the key was spent since the last grant (at least
 * twice what was spent). Asking only "twice what was spent" started every key at 1 unit and doubled
 * from there: a device posting every 0.4 s on a 15 s lease needed five object calls (1, 3, 7, 15,
 * 31) to get a lease that lasts, and 1,000 fresh devices made 1 ingest request in 7 call the object;
 * now the second call asks for the lease's life at the pace seen since the first.
 * The object still caps every grant (a share of what is spare and of the capacity), and unspent
 * units go back with the next call, so a generous ask is never over-admission.
 */
function askFor(target: LimitTarget, lease: Lease, now: number): number {
	const ttlMs = target.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
	const paced = lease.viewsAt > 0 ? Math.ceil((lease.spent * ttlMs) / Math.max(1, now - lease.viewsAt)) : 0;
	return Math.min(MAX_LEASE_ASK, target.cost + lease.waiting + Math.max(lease.spent * 2, paced));
}

function leaseFor(target: LimitTarget): Lease {
	const signature = signatureOf(target);
	const existing = leases.get(target.key);
	if (existing && existing.signature === signature) return existing;
	if (leases.size >= MAX_TRACKED_KEYS) pruneLeases(Date.now());
	const lease: Lease = {
		signature,
		units: 0,
		takenAt: 0,
		expiresAt: 0,
		views: [],
		viewsAt: 0,
		deniedUntil: 0,
		violated: [],
		acquiring: false,
		waiting: 0,
		spent: 0,
	};
	leases.set(target.key, lease);
	return lease;
}

function refundLocally(target: LimitTarget): void {
	const lease = leases.get(target.key);
	if (lease && lease.expiresAt > Date.now()) {
		lease.units += target.cost;
		lease.spent = Math.max(0, lease.spent - target.cost);
	}
}

function deniedLocally(lease: Lease, now: number): TakeOutcome {
	const views = leaseViews(lease, now).map((v) => (lease.violated.includes(v.name) ? { ...v, remaining: 0 } : v));
	return { allowed: false, views, violated: lease.violated, retryAfterMs: lease.deniedUntil - now, unavailable: false };
}

/** The object's last word, aged to `now`, with this isolate's unspent units counted as remaining. */
function leaseViews(lease: Lease, now: number): PolicyView[] {
	const age = now - lease.viewsAt;
	const spare = lease.expiresAt > now ? lease.units : 0;
	return lease.views.map((v) => ({ ...v, remaining: v.remaining + spare, resetMs: Math.max(0, v.resetMs - age) }));
}

// Policies of gateway rules are built once per rule (see route-limits.ts): memoize their text.
const policyText = new WeakMap<Policy, string>();

/** Identifies the policy set of a lease: a changed rule starts a fresh lease. */
function signatureOf(target: LimitTarget): string {
	return target.policies
		.map((p) => {
			let text = policyText.get(p);
			if (text === undefined) {
				text = JSON.stringify(p);
				policyText.set(p, text);
			}
			return text;
		})
		.join("|");
}

function pruneLeases(now: number): void {
	for (const [key, lease] of leases) {
		if (!lease.acquiring && lease.deniedUntil <= now && (lease.units === 0 || lease.expiresAt <= now))
			leases.delete(key);
	}
	// Still full of live leases: forget the oldest half (unspent units are lost, never over-admitted).
	if (leases.size >= MAX_TRACKED_KEYS) {
		let drop = leases.size / 2;
		for (const key of leases.keys()) {
			if (drop-- <= 0) break;
			leases.delete(key);
		}
	}
}
