/**
 * Leases, fencing tokens and the FIFO queue of one distributed lock, as pure functions of a state
 * and a clock reading. The Durable Object (durable-objects/locks-distributed-lock.ts) stores the
 * state and keeps the waiters; every decision is made here.
 */

export const LOCK_MODES = ["exclusive", "shared"] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** One grant of the lock. `token` is its fencing token: unique and increasing per lock. */
export type Lease = { owner: string; token: number; mode: LockMode; grantedAt: number; expiresAt: number };

/** What one lock object knows: the last token it issued (never reused) and the leases not yet ended. */
export type LockState = { lastToken: number; leases: readonly Lease[] };

/** A request for the lock, either answered at once or queued until a grant or its deadline. */
export type LockRequest = { owner: string; mode: LockMode; ttlMs: number };

export type LeaseFailureCode = "stale_token" | "not_owner";
export type RenewOutcome = { ok: true; state: LockState; lease: Lease } | { ok: false; code: LeaseFailureCode };
export type ReleaseOutcome =
	{ ok: true; state: LockState; released: Lease | null } | { ok: false; code: LeaseFailureCode };
export type FenceOutcome =
	{ ok: true } | { ok: false; code: "fenced"; highest: number } | { ok: false; code: "unknown_token" };

export const LOCK_LIMITS = {
	minTtlMs: 100,
	maxTtlMs: 300_000,
	maxWaitMs: 30_000,
	maxOwnerLength: 128,
	/** Ended grants remembered (owner per token) so a repeated release or renew is answered precisely. */
	rememberedGrants: 1000,
} as const;

/** Lock names and guarded keys: letters, digits and . _ : - (1 to 128). */
export const LOCK_NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const EMPTY_LOCK: LockState = { lastToken: 0, leases: [] };

/** Whether a request in `mode` may hold the lock beside `leases`: shared with shared only. */
export function isCompatible(leases: readonly Lease[], mode: LockMode): boolean {
	if (leases.length === 0) return true;
	return mode === "shared" && leases.every((lease) => lease.mode === "shared");
}

/** Drops the leases that expired by `now` (a lease is held until, not at, its expiry). */
export function expireLeases(state: LockState, now: number): { state: LockState; expired: Lease[] } {
	const expired = state.leases.filter((lease) => lease.expiresAt <= now);
	if (expired.length === 0) return { state, expired };
	return { state: { ...state, leases: state.leases.filter((lease) => lease.expiresAt > now) }, expired };
}

/**
 * Whether a new request is granted without waiting: only when nobody is queued (FIFO: a reader may
 * not overtake a queued writer, so writers are never starved) and the mode is compatible.
 */
export function canGrantNow(state: LockState, queued: number, mode: LockMode): boolean {
	return queued === 0 && isCompatible(state.leases, mode);
}

/** Grants the lock: the next token, a lease until `now + ttlMs`. */
export function grantLease(state: LockState, request: LockRequest, now: number): { state: LockState; lease: Lease } {
	const lease: Lease = {
		owner: request.owner,
		token: state.lastToken + 1,
		mode: request.mode,
		grantedAt: now,
		expiresAt: now + request.ttlMs,
	};
	return { state: { lastToken: lease.token, leases: [...state.leases, lease] }, lease };
}

/**
 * Grants the lock to the longest compatible prefix of the queue, in order: one writer, or a run of
 * readers (all at once). Stops at the first waiter that must wait, so nobody overtakes it.
 */
export function promoteWaiters<W extends LockRequest>(
	state: LockState,
	queue: readonly W[],
	now: number,
): { state: LockState; granted: { waiter: W; lease: Lease }[]; queue: W[] } {
	const granted: { waiter: W; lease: Lease }[] = [];
	let current = state;
	let index = 0;
	for (; index < queue.length; index++) {
		const waiter = queue[index];
		if (waiter === undefined || !isCompatible(current.leases, waiter.mode)) break;
		const next = grantLease(current, waiter, now);
		current = next.state;
		granted.push({ waiter, lease: next.lease });
	}
	return { state: current, granted, queue: queue.slice(index) };
}

/**
 * Extends a live lease to `now + ttlMs`. A lease that ended (expired, released) cannot be renewed:
 * someone else may have held the lock since, so the caller must acquire again (and get a new token).
 * `pastOwner` is the owner recorded for that token, or null when the token is not remembered.
 */
export function renewLease(
	state: LockState,
	request: { owner: string; token: number; ttlMs: number },
	pastOwner: string | null,
	now: number,
): RenewOutcome {
	const lease = state.leases.find((l) => l.token === request.token);
	if (!lease)
		return { ok: false, code: pastOwner !== null && pastOwner !== request.owner ? "not_owner" : "stale_token" };
	if (lease.owner !== request.owner) return { ok: false, code: "not_owner" };
	const renewed: Lease = { ...lease, expiresAt: now + request.ttlMs };
	return { ok: true, state: { ...state, leases: replaceLease(state.leases, renewed) }, lease: renewed };
}

/**
 * Ends a live lease. Idempotent: a grant that already ended answers `released: null` for its owner
 * (and for a token too old to be remembered); a token never issued is stale, another owner refused.
 */
export function releaseLease(
	state: LockState,
	request: { owner: string; token: number },
	pastOwner: string | null,
): ReleaseOutcome {
	const lease = state.leases.find((l) => l.token === request.token);
	if (lease) {
		if (lease.owner !== request.owner) return { ok: false, code: "not_owner" };
		return { ok: true, state: { ...state, leases: state.leases.filter((l) => l !== lease) }, released: lease };
	}
	if (request.token > state.lastToken) return { ok: false, code: "stale_token" };
	if (pastOwner !== null && pastOwner !== request.owner) return { ok: false, code: "not_owner" };
	return { ok: true, state, released: null };
}

/** When the lock next changes by itself: the earliest lease expiry (the alarm), or null when free. */
export function nextExpiry(state: LockState): number | null {
	let next: number | null = null;
	for (const lease of state.leases) if (next === null || lease.expiresAt < next) next = lease.expiresAt;
	return next;
}

/** When the lock is free at the latest if nobody renews: the last lease expiry, or null when free. */
export function freeAt(state: LockState): number | null {
	let last: number | null = null;
	for (const lease of state.leases) if (last === null || lease.expiresAt > last) last = lease.expiresAt;
	return last;
}

/** Seconds for Retry-After: until the current holders' leases end (at least 1). */
export function retryAfterSeconds(state: LockState, now: number): number {
	const free = freeAt(state);
	return Math.max(1, Math.ceil(((free ?? now) - now) / 1000));
}

/**
 * The fencing check of a guarded resource: a write carries the token it was made under and is
 * accepted only if no later grant has written already (token ≥ the highest seen). Tokens this lock
 * never issued are refused, so a made-up huge token cannot lock everyone else out.
 */
export function checkFence(highest: number | null, token: number, lastToken: number): FenceOutcome {
	if (token > lastToken) return { ok: false, code: "unknown_token" };
	if (highest !== null && token < highest) return { ok: false, code: "fenced", highest };
	return { ok: true };
}

function replaceLease(leases: readonly Lease[], renewed: Lease): Lease[] {
	return leases.map((lease) => (lease.token === renewed.token ? renewed : lease));
}
