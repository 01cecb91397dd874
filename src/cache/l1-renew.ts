import type { BatchItem } from "../../durable-objects/cache-shard";
import { errorText, log } from "../platform/log";
import { sleep } from "../platform/timeout";
import type { L1Hit, L1Scope } from "./l1";
import { L1_TTL_MS, l1Epoch, l1Key, renewL1 } from "./l1";
import type { Defer } from "./l1-reads";

/**
 * Renewal ahead of expiry: a key served from L1 in the last RENEW_AHEAD_MS of its L1 life is read
 * again from its shard in the background, with every other such key of that shard in one call
 * (RENEW_TICK_MS after the first), and keeps its place in L1 with the fresh value. A hot key then
 * stays in L1 while it is read, yet each value is still at most L1_TTL_MS older than a shard read;
 * without this, every hot key cost one shard call on the request path every L1_TTL_MS. Best effort:
 * a failed or skipped renewal only lets the entry expire, and the next GET asks the shard.
 */

/** Asks one shard for its current entries of `keys` (not counted as reads: the L1 hits are). */
export type FetchFresh = (shard: string, keys: string[]) => Promise<{ l1: boolean; items: BatchItem[] }>;

/** A served entry with less L1 life than this left is renewed. */
export const RENEW_AHEAD_MS = L1_TTL_MS / 2;
/** How long the first key waiting for renewal waits for the others (one call per shard per tick). */
export const RENEW_TICK_MS = 200;
export const RENEW_LIMITS = {
	/** Keys per shard call. */
	maxKeysPerCall: 100,
	/** Shard calls per renewal run (the rest expire as they would without renewal). */
	maxCallsPerRun: 64,
	concurrency: 6,
} as const;

/**
 * A renewal run or a key's renewal not over after this long is taken as lost (its background work
 * cancelled with its request), so it never blocks the next: the shard call's own bound and then some.
 */
const OVERDUE_MS = RENEW_TICK_MS + 15_000;

/**
 * Re-warming: the keys this isolate renewed in the last WARM_LIMITS.recentMs are its hot set. When
 * one misses L1 (its copy expired while nobody read it, e.g. after a quiet spell), the hot set's
 * other expired keys of that shard are read back in one background call, so they do not each pay
 * a shard call of their own on the request path. Same reads and bound as a renewal.
 */
export const WARM_LIMITS = { recentMs: 10_000, maxKeysPerShard: 256, maxShards: 1_000 } as const;
type Recent = { scope: L1Scope; at: number; l1Until: number };
const recent = new Map<string, Map<string, Recent>>();

/** Keys waiting, by shard object name; `waiting` holds them and the ones in flight (L1 id → since). */
const pending = new Map<string, { scope: L1Scope; keys: Set<string> }>();
const waiting = new Map<string, number>();
let runScheduledAt: number | null = null;

/** Called with every L1 hit: queues the key for renewal when its L1 life is nearly over. */
export function renewSoon(
	scope: L1Scope,
	key: string,
	hit: L1Hit,
	now: number,
	fetchFresh: FetchFresh,
	defer: Defer,
): void {
	// Nothing to renew early yet, or the entry itself expires no later than its L1 copy.
	if (hit.l1Until - now > RENEW_AHEAD_MS || hit.expiresAt <= hit.l1Until) return;
	const id = l1Key(scope, key);
	const since = waiting.get(id);
	if (since !== undefined && now - since < OVERDUE_MS) return;
	waiting.set(id, now);
	remember(hit.shard, scope, key, now, hit.l1Until);
	let group = pending.get(hit.shard);
	if (!group) {
		group = { scope, keys: new Set() };
		pending.set(hit.shard, group);
	}
	group.keys.add(key);
	if (runScheduledAt !== null && now - runScheduledAt < OVERDUE_MS) return;
	runScheduledAt = now;
	defer(
		sleep(RENEW_TICK_MS).then(() => {
			runScheduledAt = null;
			return renewPending(fetchFresh);
		}),
	);
}

/** Renews every waiting key: one call per shard and RENEW_LIMITS.maxKeysPerCall keys; never rejects. */
export async function renewPending(fetchFresh: FetchFresh): Promise<void> {
	const calls: { shard: string; scope: L1Scope; keys: string[] }[] = [];
	const now = Date.now();
	// Marks left by lost runs (their keys in no call) go, so the map stays as small as L1's hot set.
	for (const [id, since] of waiting) if (now - since >= OVERDUE_MS) waiting.delete(id);
	for (const [shard, group] of pending) {
		pending.delete(shard);
		const keys = [...group.keys];
		for (let i = 0; i < keys.length; i += RENEW_LIMITS.maxKeysPerCall)
			calls.push({ shard, scope: group.scope, keys: keys.slice(i, i + RENEW_LIMITS.maxKeysPerCall) });
	}
	for (const skipped of calls.splice(RENEW_LIMITS.maxCallsPerRun)) release(skipped.scope, skipped.keys);
	let next = 0;
	const worker = async () => {
		for (let call = calls[next++]; call; call = calls[next++]) await renewGroup(call, fetchFresh);
	};
	await Promise.all(Array.from({ length: Math.min(RENEW_LIMITS.concurrency, calls.length) }, worker));
}

/**
 * Called when `missed` missed L1 and its shard is asked for it: reads back, in the background, up
 * to RENEW_LIMITS.maxKeysPerCall of the shard's recently hot keys whose L1 copies expired. Answers
 * whether `missed` itself was one of them (then it may enter L1 on this read).
 */
export function warmShard(
	scope: L1Scope,
	shard: string,
	missed: string,
	now: number,
	fetchFresh: FetchFresh,
	defer: Defer,
): boolean {
	const keys = recent.get(shard);
	if (!keys) return false;
	let wasHot = false;
	const take: string[] = [];
	for (const [key, seen] of keys) {
		if (now - seen.at >= WARM_LIMITS.recentMs) {
			keys.delete(key);
			continue;
		}
		if (key === missed) wasHot = true;
		if (key === missed || seen.l1Until > now || take.length >= RENEW_LIMITS.maxKeysPerCall) continue;
		const id = l1Key(seen.scope, key);
		const since = waiting.get(id);
		if (since !== undefined && now - since < OVERDUE_MS) continue;
		waiting.set(id, now);
		take.push(key);
	}
	if (keys.size === 0) recent.delete(shard);
	if (take.length > 0) defer(renewGroup({ shard, scope, keys: take }, fetchFresh));
	return wasHot;
}

function remember(shard: string, scope: L1Scope, key: string, now: number, l1Until: number): void {
	let keys = recent.get(shard);
	if (!keys) {
		const oldest = recent.keys().next();
		if (recent.size >= WARM_LIMITS.maxShards && !oldest.done) recent.delete(oldest.value);
		keys = new Map();
		recent.set(shard, keys);
	}
	keys.delete(key);
	keys.set(key, { scope, at: now, l1Until });
	const oldest = keys.keys().next();
	if (keys.size > WARM_LIMITS.maxKeysPerShard && !oldest.done) keys.delete(oldest.value);
}

async function renewGroup(
	call: { shard: string; scope: L1Scope; keys: string[] },
	fetchFresh: FetchFresh,
): Promise<void> {
	const since = l1Epoch();
	const readFrom = Date.now();
	try {
		const answer = await fetchFresh(call.shard, call.keys);
		const now = Date.now();
		for (const item of answer.items) {
			const entry = item.hit
				? { value: item.value, expiresAt: item.expiresAt, shard: call.shard, shared: answer.l1 }
				: null;
			const until = renewL1(call.scope, item.key, entry, { since, readFrom }, now);
			const seen = recent.get(call.shard)?.get(item.key);
			if (seen) seen.l1Until = until;
		}
	} catch (error) {
		log.warn("cache L1 renewal failed", { shard: call.shard, keys: call.keys.length, error: errorText(error) });
	} finally {
		release(call.scope, call.keys);
	}
}

function release(scope: L1Scope, keys: readonly string[]): void {
	for (const key of keys) waiting.delete(l1Key(scope, key));
}
