/** The cache's limits and its pure decisions: entry sizes, eviction order, early refresh, stats. */

export const EVICTION_POLICIES = ["lru", "lfu"] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

export const CACHE_LIMITS = {
	/** A value's JSON text, in bytes (UTF-8). */
	maxValueBytes: 128 * 1024,
	maxKeyBytes: 512,
	minTtlSeconds: 1,
	maxTtlSeconds: 2_592_000,
	maxTags: 16,
	maxBatchKeys: 100,
	/** A shard's share of a namespace when the namespace sets no max_bytes. */
	defaultShardBytes: 10 * 1024 * 1024,
	minNamespaceBytes: 1024,
	maxNamespaceBytes: 1024 * 1024 * 1024,
	maxShards: 64,
	/** Concurrent shard calls of one fan-out (invalidate, stats, settings, batch get). */
	fanOutConcurrency: 6,
	loaderTimeoutMs: 5_000,
	defaultLoaderTtlSeconds: 300,
	/** Expired entries the alarm removes per run (it runs again at once when more remain). */
	expiryBatch: 500,
} as const;

export const NAMESPACE_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const TAG_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** XFetch's β: > 1 favours earlier refreshes. */
export const XFETCH_BETA = 1;

const ENCODER = new TextEncoder();

export function utf8Bytes(text: string): number {
	return ENCODER.encode(text).byteLength;
}

/** Whether `text` is 1 … `max` bytes of UTF-8; short text (≤ 3 bytes per UTF-16 unit) is not encoded. */
export function utf8LengthWithin(text: string, max: number): boolean {
	if (text.length === 0) return false;
	return text.length * 3 <= max || utf8Bytes(text) <= max;
}

/** What an entry costs against its shard's cap: key, value and tags as stored. */
export function entryBytes(key: string, valueText: string, tags: readonly string[]): number {
	return utf8Bytes(key) + utf8Bytes(valueText) + tags.reduce((sum, tag) => sum + utf8Bytes(tag), 0);
}

/** Each of `shards` shards holds at most its share of the namespace's max_bytes. */
export function shardCapBytes(namespaceMaxBytes: number | null, shards: number): number {
	if (namespaceMaxBytes === null) return CACHE_LIMITS.defaultShardBytes;
	return Math.max(1, Math.floor(namespaceMaxBytes / shards));
}

export type EvictionCandidate = { key: string; bytes: number; lastAccess: number; hits: number; expiresAt: number };

/**
 * The order in which entries leave a full shard: expired ones first, then the least recently used
 * (LRU) or the least frequently used, oldest access first among equals (LFU).
 */
export function evictionOrder(
	entries: readonly EvictionCandidate[],
	policy: EvictionPolicy,
	now: number,
): EvictionCandidate[] {
	return [...entries].sort((a, b) => {
		const expired = Number(b.expiresAt <= now) - Number(a.expiresAt <= now);
		if (expired !== 0) return expired;
		if (policy === "lfu" && a.hits !== b.hits) return a.hits - b.hits;
		return a.lastAccess - b.lastAccess || (a.key < b.key ? -1 : 1);
	});
}

/** The victims that bring `usedBytes` down to `capBytes`, in eviction order, never `keep`. */
export function chooseVictims(
	ordered: readonly EvictionCandidate[],
	usedBytes: number,
	capBytes: number,
	keep: string | null,
): EvictionCandidate[] {
	const victims: EvictionCandidate[] = [];
	let used = usedBytes;
	for (const entry of ordered) {
		if (used <= capBytes) break;
		if (entry.key === keep) continue;
		victims.push(entry);
		used -= entry.bytes;
	}
	return victims;
}

/**
 * XFetch (Vattani et al., "Optimal probabilistic cache stampede prevention"): refresh before expiry
 * with a probability that grows as expiry nears and with how long a load takes (`deltaMs`).
 * `random` is uniform in (0, 1]; injected so the decision is deterministic in tests.
 */
export function shouldRefreshEarly(
	ttlRemainingMs: number,
	deltaMs: number,
	random: number,
	beta = XFETCH_BETA,
): boolean {
	if (ttlRemainingMs <= 0) return true;
	const r = random <= 0 ? Number.MIN_VALUE : Math.min(random, 1);
	return ttlRemainingMs < -beta * deltaMs * Math.log(r);
}

export type ShardStats = { totalKeys: number; memoryUsed: number; hits: number; misses: number; evictions: number };

/** The namespace's figures: the shards' sums, and hits over lookups (0 before the first lookup). */
export function sumStats(shards: readonly ShardStats[]) {
	const sum = (pick: (s: ShardStats) => number) => shards.reduce((total, s) => total + pick(s), 0);
	const hits = sum((s) => s.hits);
	const misses = sum((s) => s.misses);
	return {
		total_keys: sum((s) => s.totalKeys),
		memory_used: sum((s) => s.memoryUsed),
		hit_rate: hits + misses === 0 ? 0 : hits / (hits + misses),
		hits,
		misses,
		evictions: sum((s) => s.evictions),
	};
}

/** Seconds left, rounded up, so a live entry never reports 0. */
export function ttlRemainingSeconds(expiresAt: number, now: number): number {
	return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}
