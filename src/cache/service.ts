import type { CacheShard } from "../../durable-objects/cache-shard";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";
import { TtlCache } from "../platform/ttl-cache";
import { CACHE_LIMITS } from "./domain";
import { ringFor, shardOf } from "./ring";

export type ShardStub = DurableObjectStub<CacheShard>;
export type CacheScope = { env: Env; tenantId: string; namespace: string };
export type L1Entry = { value: string; expiresAt: number };

/** How long an isolate serves a value from its L1 without asking the shard: the staleness bound. */
export const L1_TTL_MS = 1_000;
const SHARD_CALL_MS = 10_000;
const DEFAULT_SHARDS = 8;

/**
 * Per-isolate L1 of hot values (plain JSON text and expiry) and of namespaces' `l1` setting as last
 * seen from a shard. Writes, deletes and invalidations through this isolate drop its entries; other
 * isolates may serve a value up to L1_TTL_MS after it changed.
 */
const l1Values = new TtlCache<string, L1Entry>({ ttlMs: L1_TTL_MS, maxEntries: 2_000 });
const l1Namespaces = new TtlCache<string, boolean>({ ttlMs: 10_000, maxEntries: 1_000 });

/** CACHE_SHARD_COUNT, bounded to 1 … 64 (a fan-out calls every shard). */
export function shardCount(env: Env): number {
	const n = Number.parseInt(env.CACHE_SHARD_COUNT, 10);
	if (!Number.isInteger(n) || n < 1) return DEFAULT_SHARDS;
	return Math.min(n, CACHE_LIMITS.maxShards);
}

/** The shard object owning `key`: one per tenant, namespace and shard index, so tenants never meet. */
export function shardForKey(scope: CacheScope, key: string): ShardStub {
	return shardAt(scope, shardOf(ringFor(shardCount(scope.env)), key));
}

export function shardAt(scope: CacheScope, index: number): ShardStub {
	return scope.env.CACHE_SHARDS.getByName(`${scope.tenantId}:${scope.namespace}:${index}`);
}

/** One call to a shard, bounded; an unreachable shard answers 503. */
export async function callShard<T>(work: PromiseLike<T>, what: string): Promise<T> {
	try {
		return await withTimeout(work, SHARD_CALL_MS, what);
	} catch (error) {
		log.warn("cache shard call failed", { what, error: errorText(error) });
		throw new AppError(503, "cache_unavailable", "A cache shard could not be reached; retry shortly.", undefined, {
			"Retry-After": "1",
		});
	}
}

/** Calls `work` on every shard of the namespace, at most six at a time; answers in shard order. */
export async function fanOut<T>(
	scope: CacheScope,
	what: string,
	work: (shard: ShardStub) => PromiseLike<T>,
): Promise<T[]> {
	const indexes = Array.from({ length: shardCount(scope.env) }, (_, i) => i);
	return mapBounded(indexes, CACHE_LIMITS.fanOutConcurrency, (i) => callShard(work(shardAt(scope, i)), what));
}

/** `fn` over `items` with at most `limit` calls running; results in input order. */
export async function mapBounded<I, O>(items: readonly I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
	const done: { i: number; value: O }[] = [];
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			const item = items[i];
			if (item !== undefined) done.push({ i, value: await fn(item) });
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return done.sort((a, b) => a.i - b.i).map((d) => d.value);
}

export function l1Key(scope: CacheScope, key: string): string {
	return `${scope.tenantId}\n${scope.namespace}\n${key}`;
}

export function readL1(scope: CacheScope, key: string, now = Date.now()): L1Entry | undefined {
	const hit = l1Values.get(l1Key(scope, key), now);
	return hit && hit.expiresAt > now ? hit : undefined;
}

/** Keeps a value for at most L1_TTL_MS, never past the entry's own expiry. */
export function writeL1(scope: CacheScope, key: string, entry: L1Entry, now = Date.now()): void {
	const ttl = Math.min(L1_TTL_MS, entry.expiresAt - now);
	if (ttl > 0) l1Values.set(l1Key(scope, key), entry, ttl, now);
}

export function dropL1(scope: CacheScope, key: string): void {
	l1Values.delete(l1Key(scope, key));
}

/** Drops this isolate's L1 entries of a namespace (after an invalidation). */
export function dropL1Namespace(scope: CacheScope): void {
	const prefix = l1Key(scope, "");
	l1Values.deleteWhere((_, key) => key.startsWith(prefix));
}

export function namespaceUsesL1(scope: CacheScope): boolean {
	return l1Namespaces.get(`${scope.tenantId}\n${scope.namespace}`) ?? false;
}

export function rememberNamespaceL1(scope: CacheScope, enabled: boolean): void {
	l1Namespaces.set(`${scope.tenantId}\n${scope.namespace}`, enabled);
}
