import type { AcquireResult, RateLimiter } from "../../durable-objects/gateway-rate-limiter";
import type { Policy } from "../gateway/limiter/domain";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";

/**
 * The redirect's rate limits without a Durable Object call on the common path. Each isolate keeps
 * a slot per limited key (a client IP, a link) holding units the key's RateLimiter object has
 * already taken from the quota (a lease, spent locally) and, for a key it has not asked about yet,
 * a small first-sight allowance (FIRST_SIGHT_UNITS) it may admit before the object's first answer.
 * The next lease is asked for in the background (`ctx.waitUntil`) while units are left, and the
 * allowance units spent are charged to the object with it (`owed`, even into debt). A request
 * waits for the object only when its slot is empty: a key over its limit, or a burst faster than
 * the background refresh. Precision: see docs/shortener.md ("Redirect limits").
 */

type Namespace = DurableObjectNamespace<RateLimiter>;
type WaitUntil = { waitUntil(p: Promise<unknown>): void };

export type RedirectTake =
	| { allowed: true; source: "lease" | "allowance" | "outage" }
	| { allowed: false; retryAfterMs: number; violated: string[] };

type Slot = {
	policy: Policy;
	/** Units the object has taken for this isolate, spendable until expiresAt. */
	units: number;
	expiresAt: number;
	takenAt: number;
	lastGrant: number;
	/** First-sight units not yet taken from the object, and those spent that the next sync charges. */
	allowance: number;
	owed: number;
	spent: number;
	syncedAt: number;
	deniedUntil: number;
	violated: string[];
	sync: Promise<boolean> | null;
};

/** Redirects an isolate admits for a key before the key's object has answered once. */
export const FIRST_SIGHT_UNITS = 4;
/** Redirect leases last this long (the gateway's default is 3 s): an active client rarely needs a new one. */
export const REDIRECT_LEASE_TTL_MS = 30_000;
/** The background refresh starts when a quarter of the last grant is left, or 10 s before it expires. */
const REFRESH_SHARE = 0.25;
const REFRESH_BEFORE_EXPIRY_MS = 10_000;
/** A lease asks for at least this many units (the object grants at most 10% of the bucket's capacity). */
const MIN_WANT = 24;
const MAX_WANT = 1000;
const LIMITER_TIMEOUT_MS = 1500;
const WAIT_ATTEMPTS = 3;
const MAX_SLOTS = 20_000;
/**
 * Background first-sight charges in flight per isolate: a crowd of new clients must not start
 * thousands of object calls at once (one skipped here is started by a later request of the key, or
 * by the request that finds the slot empty). Refreshes of leases in use are not held back.
 */
const MAX_BACKGROUND_SYNCS = 16;
/** Charges one background charger makes before it ends (its request's waitUntil should not run for long). */
const CHARGES_PER_CHARGER = 200;

// Isolate state of plain data (no I/O objects): one slot per limited key.
const slots = new Map<string, Slot>();
/** Keys with first-sight units to charge, in arrival order, and the background chargers working on them. */
const uncharged = new Map<string, Slot>();
let chargers = 0;

/** Takes one unit of `key` under `policy`; awaits the object only when this isolate holds none. */
export async function takeRedirectUnit(
	ns: Namespace,
	ctx: WaitUntil,
	key: string,
	policy: Policy,
): Promise<RedirectTake> {
	const slot = slotFor(key, policy, Date.now());
	const fast = spend(slot, Date.now());
	if (fast) {
		if (needsRefresh(slot, Date.now())) {
			// A lease in use is refreshed at once; first-sight charges queue for the capped chargers.
			if (slot.lastGrant > 0) ctx.waitUntil(startSync(ns, key, slot));
			else {
				uncharged.set(key, slot);
				if (chargers < MAX_BACKGROUND_SYNCS) {
					chargers += 1;
					ctx.waitUntil(
						chargeQueued(ns).finally(() => {
							chargers -= 1;
						}),
					);
				}
			}
		}
		return fast;
	}
	// Nothing local: wait for the object (joining a call already under way); other waiters of this
	// isolate may take a fresh grant first, so ask again a couple of times before refusing.
	for (let attempt = 0; attempt < WAIT_ATTEMPTS; attempt++) {
		const ok = await (slot.sync ?? startSync(ns, key, slot));
		const after = spend(slot, Date.now());
		if (after) return after;
		// A limiter outage lets the redirect through (the limit protects, a redirect is cheap).
		if (!ok) return { allowed: true, source: "outage" };
	}
	return { allowed: false, retryAfterMs: 1000, violated: [policy.name] };
}

/** Gives back a unit taken for a request that did not run (another limit refused it). */
export function giveBackRedirectUnit(key: string, taken: RedirectTake): void {
	const slot = slots.get(key);
	if (!slot || !taken.allowed) return;
	if (taken.source === "lease") slot.units += 1;
	else if (taken.source === "allowance" && slot.owed > 0) {
		slot.owed -= 1;
		slot.allowance += 1;
	}
	slot.spent = Math.max(0, slot.spent - 1);
}

function spend(slot: Slot, now: number): RedirectTake | null {
	if (slot.deniedUntil > now) return { allowed: false, retryAfterMs: slot.deniedUntil - now, violated: slot.violated };
	slot.deniedUntil = 0;
	if (slot.units > 0 && slot.expiresAt > now) {
		slot.units -= 1;
		slot.spent += 1;
		return { allowed: true, source: "lease" };
	}
	// A key this isolate has not heard of for a whole lease period is treated as first seen again.
	if (slot.allowance === 0 && slot.sync === null && now - slot.syncedAt >= REDIRECT_LEASE_TTL_MS)
		slot.allowance = FIRST_SIGHT_UNITS;
	if (slot.allowance > 0) {
		slot.allowance -= 1;
		slot.owed += 1;
		slot.spent += 1;
		return { allowed: true, source: "allowance" };
	}
	return null;
}

function needsRefresh(slot: Slot, now: number): boolean {
	if (slot.sync !== null) return false;
	if (slot.owed > 0) return true;
	return slot.units <= slot.lastGrant * REFRESH_SHARE || slot.expiresAt - now <= REFRESH_BEFORE_EXPIRY_MS;
}

/** Works through the queued first-sight charges (each a call to its key's object), a bounded number. */
async function chargeQueued(ns: Namespace): Promise<void> {
	for (let n = 0; n < CHARGES_PER_CHARGER; n++) {
		const next = uncharged.entries().next();
		if (next.done) return;
		const [key, slot] = next.value;
		uncharged.delete(key);
		if (slot.sync === null && slot.owed > 0) await startSync(ns, key, slot);
	}
}

/** One call to the key's object: charges the owed units, returns expired ones, takes the next lease. */
function startSync(ns: Namespace, key: string, slot: Slot): Promise<boolean> {
	const sync = (async () => {
		const ok = await syncSlot(ns, key, slot);
		// Units admitted on first sight while the call was out are charged at once, not at the key's next request.
		return ok && slot.owed > 0 ? syncSlot(ns, key, slot) : ok;
	})().finally(() => {
		slot.sync = null;
	});
	slot.sync = sync;
	return sync;
}

async function syncSlot(ns: Namespace, key: string, slot: Slot): Promise<boolean> {
	const now = Date.now();
	const owed = slot.owed;
	const returned = slot.units > 0 && slot.expiresAt <= now ? { units: slot.units, takenAt: slot.takenAt } : undefined;
	if (returned) slot.units = 0;
	slot.owed = 0;
	const want = Math.min(MAX_WANT, Math.max(MIN_WANT, slot.spent * 2));
	let result: AcquireResult;
	try {
		result = await withTimeout<AcquireResult>(
			ns.getByName(key).acquire([slot.policy], { cost: 1, want, returned, owed, ttlMs: REDIRECT_LEASE_TTL_MS }),
			LIMITER_TIMEOUT_MS,
			"rate limiter",
		);
	} catch (error) {
		slot.owed += owed;
		log.warn("redirect limiter unavailable", { key, error: errorText(error) });
		return false;
	}
	const at = Date.now();
	slot.syncedAt = at;
	slot.spent = 0;
	slot.allowance = 0;
	if (!result.allowed) {
		slot.deniedUntil = at + Math.max(result.unitWaitMs, result.retryAfterMs ?? 0, 1);
		slot.violated = result.violated;
		return true;
	}
	slot.units += result.granted;
	slot.lastGrant = result.granted;
	slot.expiresAt = result.expiresAt;
	slot.takenAt = result.takenAt;
	slot.deniedUntil = 0;
	return true;
}

function slotFor(key: string, policy: Policy, now: number): Slot {
	const existing = slots.get(key);
	if (existing && existing.policy === policy) return existing;
	if (slots.size >= MAX_SLOTS) pruneSlots(now);
	const slot: Slot = {
		policy,
		units: 0,
		expiresAt: 0,
		takenAt: 0,
		lastGrant: 0,
		allowance: FIRST_SIGHT_UNITS,
		owed: 0,
		spent: 0,
		syncedAt: now,
		deniedUntil: 0,
		violated: [],
		sync: null,
	};
	slots.set(key, slot);
	return slot;
}

/** Forgets idle slots; still full, the oldest half (their unspent units are lost, never over-admitted). */
function pruneSlots(now: number): void {
	for (const [key, slot] of slots) {
		if (slot.sync === null && slot.owed === 0 && slot.deniedUntil <= now && slot.expiresAt <= now) slots.delete(key);
	}
	if (slots.size < MAX_SLOTS) return;
	let drop = slots.size / 2;
	for (const key of slots.keys()) {
		if (drop-- <= 0) break;
		slots.delete(key);
	}
}
