import { DurableObject } from "cloudflare:workers";
import type { ShardStats } from "../src/cache/domain";
import { CACHE_LIMITS, chooseVictims, entryBytes, evictionOrder, shouldRefreshEarly } from "../src/cache/domain";
import type { LoadOutcome } from "../src/cache/loader";
import { loaderPolicy, loadJson } from "../src/cache/loader";
import type { ShardSettings } from "../src/cache/shard-db";
import {
	createShardTables,
	deleteEntry,
	deleteExpired,
	deletePrefix,
	deleteTagged,
	evictionCandidates,
	findLiveEntries,
	findEntry,
	nextExpiry,
	readSettings,
	applyAccesses,
	recordEvictions,
	saveSettings,
	shardStats,
	storeEntry,
	usedBytes,
} from "../src/cache/shard-db";
import { errorText, log } from "../src/platform/log";
import type { AccessBatch } from "../src/cache/access-log";
import { AccessLog, FLUSH_KEYS, FLUSH_MS } from "../src/cache/access-log";
import { policyFromEnv } from "../src/platform/destination";
import { deliverDueWrites } from "../src/cache/origin-write";
import { createOutbox, enqueueWrite, nextDue, outboxCounts } from "../src/cache/write-behind-db";

export type CachedValue = { key: string; value: string; expiresAt: number };
export type LookupResult =
	| { ok: true; hit: true; value: string; expiresAt: number; l1: boolean; refreshing: boolean }
	| { ok: true; hit: false; loaded: true; value: string; expiresAt: number; l1: boolean }
	| { ok: false; code: "cache_miss"; l1: boolean }
	| Exclude<LoadOutcome, { ok: true }>;
export type PutRequest = {
	key: string;
	value: string;
	ttlSeconds: number;
	tags: string[];
	/** Write-behind: the origin URL the value is delivered to after this answer, and the write's id. */
	writeBehind?: { url: string; writeId: string };
};
export type ShardFigures = ShardStats & { writeBehindPending: number; writeBehindFailed: number };
export type PutResult =
	| { ok: true; expiresAt: number; evicted: number }
	| { ok: false; code: "value_too_large"; capBytes: number; bytes: number };
export type BatchItem = { key: string; hit: true; value: string; expiresAt: number } | { key: string; hit: false };
export type Loader = { url: string; ttlSeconds: number };

/** Candidates read per eviction round (a round removes what brings the shard under its cap). */
const EVICTION_ROUND = 64;

/**
 * One shard of one tenant's cache namespace (`<tenant>:<namespace>:<shard>`): entries in SQLite,
 * LRU or LFU eviction under the shard's cap, lazy and alarm-driven expiry, and read-through loads
 * coalesced per key (one loader fetch however many GETs miss at once).
 */
export class CacheShard extends DurableObject<Env> {
	#settings: ShardSettings = { maxBytes: null, eviction: "lru", l1: true };
	#alarmAt: number | null = null;
	/** Loads in flight, by key: later misses await the first one's fetch instead of starting their own. */
	readonly #loads = new Map<string, Promise<LoadOutcome>>();
	/** Keys written, deleted or invalidated while their load was in flight: that load must not store. */
	readonly #superseded = new Set<string>();
	/** Reads not yet written (recency, hit counts): a hit writes no row (src/cache/access-log.ts). */
	readonly #reads = new AccessLog();
	#readsTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createShardTables(ctx.storage.sql);
			createOutbox(ctx.storage.sql);
			this.#settings = readSettings(ctx.storage.sql);
			this.#alarmAt = await ctx.storage.getAlarm();
		});
	}

	/** A lookup; with a loader, a miss is loaded (once per key at a time) and a hit may be refreshed early. */
	async get(key: string, loader: Loader | null): Promise<LookupResult> {
		const now = Date.now();
		const l1 = this.#settings.l1;
		const entry = this.#live(key, now);
		if (entry) {
			this.#read(key, now);
			const early = loader !== null && shouldRefreshEarly(entry.expiresAt - now, entry.loadMs, Math.random());
			if (early && loader) this.ctx.waitUntil(this.#refresh(key, loader));
			return { ok: true, hit: true, value: entry.value, expiresAt: entry.expiresAt, l1, refreshing: early };
		}
		this.#read(null, now);
		if (!loader) return { ok: false, code: "cache_miss", l1 };
		const outcome = await this.#load(key, loader);
		if (!outcome.ok) return outcome;
		// Normally the entry just stored; a PUT that superseded the load wins; after a delete or an
		// invalidation during the load, the loaded value is answered but not cached (expires now).
		const stored = this.#live(key, Date.now()) ?? { value: outcome.valueText, expiresAt: Date.now() };
		return { ok: true, hit: false, loaded: true, value: stored.value, expiresAt: stored.expiresAt, l1 };
	}

	/** Lookups without loaders, in the order asked, each counted as a hit or a miss; with the `l1` setting. */
	getMany(keys: string[]): { l1: boolean; items: BatchItem[] } {
		const now = Date.now();
		const items = keys.map((key): BatchItem => {
			const entry = this.#live(key, now);
			if (!entry) {
				this.#read(null, now);
				return { key, hit: false };
			}
			this.#read(key, now);
			return { key, hit: true, value: entry.value, expiresAt: entry.expiresAt };
		});
		return { l1: this.#settings.l1, items };
	}

	/** Live entries for an isolate renewing its L1 (src/cache/l1-renew.ts); not reads (its L1 hits are). */
	peekMany(keys: string[]): { l1: boolean; items: BatchItem[] } {
		return { l1: this.#settings.l1, items: findLiveEntries(this.ctx.storage.sql, keys, Date.now()) };
	}

	/** An isolate's L1 hits of this shard's keys (src/cache/l1-reads.ts), kept like the shard's own reads. */
	recordReads(batch: AccessBatch): void {
		this.#reads.merge(batch);
		this.#flushSoon();
	}

	async put(request: PutRequest): Promise<PutResult> {
		this.#supersede((key) => key === request.key);
		const now = Date.now();
		const result = this.#store(request, 0, now);
		// In the same synchronous step as the entry: both are committed together before the answer.
		if (result.ok && request.writeBehind) {
			const { url, writeId } = request.writeBehind;
			enqueueWrite(this.ctx.storage.sql, { key: request.key, url, value: request.value, write_id: writeId }, now);
		}
		await this.#syncAlarm();
		return result;
	}

	delete(key: string): boolean {
		this.#flushReads();
		this.#supersede((loading) => loading === key);
		return deleteEntry(this.ctx.storage.sql, key);
	}

	invalidatePrefix(prefix: string): number {
		this.#flushReads();
		this.#supersede((key) => key.startsWith(prefix));
		return deletePrefix(this.ctx.storage.sql, prefix);
	}

	invalidateTags(tags: string[]): number {
		this.#flushReads();
		// A loaded entry has no tags, but the key may have had some when the load started.
		this.#supersede(() => true);
		return deleteTagged(this.ctx.storage.sql, tags);
	}

	stats(): ShardFigures {
		this.#flushReads();
		const outbox = outboxCounts(this.ctx.storage.sql);
		return {
			...shardStats(this.ctx.storage.sql, Date.now()),
			writeBehindPending: outbox.pending,
			writeBehindFailed: outbox.failed,
		};
	}

	/** The namespace's settings, with this shard's share of max_bytes; a smaller cap evicts at once. */
	configure(settings: ShardSettings): number {
		this.#settings = settings;
		saveSettings(this.ctx.storage.sql, settings);
		return this.#evict(null, Date.now());
	}

	/** Removes expired entries in bounded batches, then waits for the next expiry. */
	override async alarm(): Promise<void> {
		this.#flushReads();
		const now = Date.now();
		const removed = deleteExpired(this.ctx.storage.sql, now, CACHE_LIMITS.expiryBatch);
		if (removed > 0) log.info("cache expiry", { removed });
		await deliverDueWrites(this.ctx.storage.sql, policyFromEnv(this.env), now);
		this.#alarmAt = null;
		await this.#syncAlarm();
	}

	#live(key: string, now: number): { value: string; expiresAt: number; loadMs: number } | null {
		const entry = findEntry(this.ctx.storage.sql, key);
		if (!entry) return null;
		if (entry.expires_at <= now) {
			// Lazy expiry: an expired entry is gone the moment it is read.
			deleteEntry(this.ctx.storage.sql, key);
			return null;
		}
		return { value: entry.value, expiresAt: entry.expires_at, loadMs: entry.load_ms };
	}

	#load(key: string, loader: Loader): Promise<LoadOutcome> {
		const running = this.#loads.get(key);
		if (running) return running;
		const load = this.#fetchAndStore(key, loader).finally(() => this.#loads.delete(key));
		this.#loads.set(key, load);
		return load;
	}

	async #fetchAndStore(key: string, loader: Loader): Promise<LoadOutcome> {
		const outcome = await loadJson(loader.url, loaderPolicy(this.env));
		// A write or invalidation that landed during the fetch is newer than what the loader saw.
		const superseded = this.#superseded.delete(key);
		if (!outcome.ok || superseded) return outcome;
		const request = { key, value: outcome.valueText, ttlSeconds: loader.ttlSeconds, tags: [] };
		const stored = this.#store(request, outcome.loadMs, Date.now());
		await this.#syncAlarm();
		if (!stored.ok) return { ok: false, code: "value_too_large", reason: "the loaded value is over this shard's cap" };
		return outcome;
	}

	async #refresh(key: string, loader: Loader): Promise<void> {
		const outcome = await this.#load(key, loader).catch((error: unknown) => {
			log.warn("cache early refresh failed", { error: errorText(error) });
			return null;
		});
		if (outcome && !outcome.ok) log.warn("cache early refresh refused", { code: outcome.code });
	}

	#supersede(matches: (key: string) => boolean): void {
		for (const key of this.#loads.keys()) if (matches(key)) this.#superseded.add(key);
	}

	#store(request: PutRequest, loadMs: number, now: number): PutResult {
		// Reads of the old entry are written first: a replaced entry starts again at 0 hits.
		this.#flushReads();
		const cap = this.#settings.maxBytes ?? CACHE_LIMITS.defaultShardBytes;
		const bytes = entryBytes(request.key, request.value, request.tags);
		if (bytes > cap) return { ok: false, code: "value_too_large", capBytes: cap, bytes };
		const expiresAt = now + request.ttlSeconds * 1000;
		const { key, value, tags } = request;
		storeEntry(this.ctx.storage.sql, { key, value, bytes, expiresAt, tags, loadMs }, now);
		return { ok: true, expiresAt, evicted: this.#evict(key, now) };
	}

	/** Counts a read (`key` null: a miss); the log is written once FLUSH_KEYS keys wait, or FLUSH_MS after. */
	#read(key: string | null, now: number): void {
		if (key === null) this.#reads.miss();
		else this.#reads.hit(key, now);
		this.#flushSoon();
	}

	#flushSoon(): void {
		if (this.#reads.size >= FLUSH_KEYS) this.#flushReads();
		else this.#readsTimer ??= setTimeout(() => this.#flushReads(), FLUSH_MS);
	}

	/** Writes the waiting reads in one statement per chunk (before eviction, stats or every change). */
	#flushReads(): void {
		if (this.#readsTimer !== undefined) clearTimeout(this.#readsTimer);
		this.#readsTimer = undefined;
		if (this.#reads.empty) return;
		const batch = this.#reads.drain();
		this.ctx.storage.transactionSync(() => applyAccesses(this.ctx.storage.sql, batch));
	}

	/** Brings the shard under its cap (never evicting `keep`); returns how many live entries left. */
	#evict(keep: string | null, now: number): number {
		this.#flushReads();
		const sql = this.ctx.storage.sql;
		const cap = this.#settings.maxBytes ?? CACHE_LIMITS.defaultShardBytes;
		let evicted = 0;
		for (let used = usedBytes(sql); used > cap; used = usedBytes(sql)) {
			const candidates = evictionCandidates(sql, this.#settings.eviction, now, EVICTION_ROUND);
			const victims = chooseVictims(evictionOrder(candidates, this.#settings.eviction, now), used, cap, keep);
			if (victims.length === 0) break;
			for (const victim of victims) {
				deleteEntry(sql, victim.key);
				if (victim.expiresAt > now) evicted++;
			}
		}
		recordEvictions(sql, evicted);
		return evicted;
	}

	async #syncAlarm(): Promise<void> {
		const expiry = nextExpiry(this.ctx.storage.sql);
		const write = nextDue(this.ctx.storage.sql);
		const next = expiry === null ? write : write === null ? expiry : Math.min(expiry, write);
		if (next === null || (this.#alarmAt !== null && this.#alarmAt <= next)) return;
		this.#alarmAt = Math.max(next, Date.now() + 1);
		await this.ctx.storage.setAlarm(this.#alarmAt);
	}
}
