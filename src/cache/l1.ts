import { TtlCache } from "../platform/ttl-cache";

/**
 * The per-isolate L1: hot values (their JSON text and expiry) kept in this isolate's memory for at
 * most L1_TTL_MS, so a repeated GET of a hot key is answered without a Durable Object call. Writes,
 * deletes, invalidations and settings changes made through this isolate drop its entries at once;
 * other isolates may serve a changed value for up to L1_TTL_MS (the staleness bound in docs/cache.md).
 */

/** One value in L1: `shard` names the shard object whose reads it stands for (its hits are sent there). */
export type L1Entry = {
	value: string;
	expiresAt: number;
	shard: string;
	/** Kept under the namespace's `l1` setting (a plain GET may serve it), not only for `?l1=1`. */
	shared: boolean;
};
/** An entry as L1 holds it: `l1Until` is when this isolate stops serving it without asking again. */
export type L1Hit = L1Entry & { l1Until: number };

/** How long an isolate serves a value from its L1 without asking the shard: the staleness bound. */
export const L1_TTL_MS = 2_000;
export const L1_LIMITS = {
	maxEntries: 4_000,
	/** Summed size of the values held (UTF-16 code units × 2, what V8 may spend on them). */
	maxBytes: 16 * 1024 * 1024,
	/** A key enters L1 on its Nth shard read within ADMISSION_WINDOW_MS (hot keys only; ?l1=1 at once). */
	admitAfterReads: 2,
	admissionWindowMs: 10_000,
} as const;

const values = new TtlCache<string, L1Hit>({
	ttlMs: L1_TTL_MS,
	maxEntries: L1_LIMITS.maxEntries,
	maxWeight: L1_LIMITS.maxBytes,
	weigh: (entry) => entry.value.length * 2,
	name: "cache_l1",
});
/** Bumped by every drop: a shard answer that was in flight across a local write is not admitted. */
let epoch = 0;
/** Shard reads per key not yet in L1 (the admission count). */
const reads = new TtlCache<string, number>({ ttlMs: L1_LIMITS.admissionWindowMs, maxEntries: 10_000 });

export type L1Scope = { tenantId: string; namespace: string };

export function l1Key(scope: L1Scope, key: string): string {
	return `${scope.tenantId}\n${scope.namespace}\n${key}`;
}

/** The live L1 entry of a key (never past the entry's own expiry). */
export function readL1(scope: L1Scope, key: string, now = Date.now()): L1Hit | undefined {
	const hit = values.get(l1Key(scope, key), now);
	return hit && hit.expiresAt > now ? hit : undefined;
}

/** Taken before a shard call and handed to admitL1 after it. */
export function l1Epoch(): number {
	return epoch;
}

/**
 * Called with every value a shard answered: kept in L1 when `force` (?l1=1), or when the namespace
 * has L1 on and this is the key's admitAfterReads-th shard read in the window; never when this
 * isolate wrote, deleted or invalidated since `since` (the answer may predate that change).
 */
export function admitL1(
	scope: L1Scope,
	key: string,
	entry: L1Entry,
	options: { force: boolean; since: number },
	now = Date.now(),
): void {
	if (options.since !== epoch) return;
	const id = l1Key(scope, key);
	if (!options.force) {
		if (!entry.shared) return;
		// Counted on while the key stays hot, so an entry that expires is taken back at its next read.
		const seen = (reads.get(id, now) ?? 0) + 1;
		reads.set(id, seen, L1_LIMITS.admissionWindowMs, now);
		if (seen < L1_LIMITS.admitAfterReads) return;
	}
	const ttl = Math.min(L1_TTL_MS, entry.expiresAt - now);
	if (ttl > 0) values.set(id, { ...entry, l1Until: now + ttl }, ttl, now);
}

/**
 * A renewal's answer (src/cache/l1-renew.ts) for a key this isolate serves from L1: the shard's
 * entry now (null: gone there, so gone here too). Its L1 life restarts from `readFrom`, taken
 * before the shard call, so it is never served longer than L1_TTL_MS after the shard read it;
 * dropped, like every admission, when this isolate changed something since `since`. Answers the
 * time L1 now holds it until (0: not held).
 */
export function renewL1(
	scope: L1Scope,
	key: string,
	entry: L1Entry | null,
	options: { since: number; readFrom: number },
	now = Date.now(),
): number {
	if (options.since !== epoch) return 0;
	const id = l1Key(scope, key);
	const until = entry ? Math.min(options.readFrom + L1_TTL_MS, entry.expiresAt) : 0;
	if (entry && until > now) {
		values.set(id, { ...entry, l1Until: until }, until - now, now);
		return until;
	}
	values.delete(id);
	return 0;
}

/** Forgets a key in this isolate (after a write or delete through it). */
export function dropL1(scope: L1Scope, key: string): void {
	epoch++;
	values.delete(l1Key(scope, key));
}

/** Forgets a namespace's keys in this isolate (after an invalidation or a settings change). */
export function dropL1Namespace(scope: L1Scope): void {
	epoch++;
	const prefix = l1Key(scope, "");
	values.deleteWhere((_, id) => id.startsWith(prefix));
}

/** Forgets one shard's keys in this isolate (a PUT through it evicted some of them). */
export function dropL1Shard(shard: string): void {
	epoch++;
	values.deleteWhere((entry) => entry.shard === shard);
}

/** Entries and bytes held now (tests and figures). */
export function l1Size(): { entries: number; bytes: number } {
	return { entries: values.size, bytes: values.weight };
}
