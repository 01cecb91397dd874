import type { CacheShard } from "../../durable-objects/cache-shard";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";
import type { AccessBatch } from "./access-log";
import { CACHE_LIMITS } from "./domain";
import type { FetchFresh } from "./l1-renew";
import { ringFor, shardOf } from "./ring";

export type ShardStub = DurableObjectStub<CacheShard>;
export type CacheScope = { env: Env; tenantId: string; namespace: string };
const SHARD_CALL_MS = 10_000;
const DEFAULT_SHARDS = 8;

/** CACHE_SHARD_COUNT, bounded to 1 … 64 (a fan-out calls every shard). */
export function shardCount(env: Env): number {
	const n = Number.parseInt(env.CACHE_SHARD_COUNT, 10);
	if (!Number.isInteger(n) || n < 1) return DEFAULT_SHARDS;
	return Math.min(n, CACHE_LIMITS.maxShards);
}

/** The shard object owning `key`: one per tenant, namespace and shard index, so tenants never meet. */
export function shardForKey(scope: CacheScope, key: string): ShardStub {
	return scope.env.CACHE_SHARDS.getByName(shardNameForKey(scope, key));
}

export function shardAt(scope: CacheScope, index: number): ShardStub {
	return scope.env.CACHE_SHARDS.getByName(shardName(scope, index));
}

/** A shard object's name: `<tenant>:<namespace>:<index>`. */
export function shardName(scope: Omit<CacheScope, "env">, index: number): string {
	return `${scope.tenantId}:${scope.namespace}:${index}`;
}

export function shardNameForKey(scope: CacheScope, key: string): string {
	return shardName(scope, shardOf(ringFor(shardCount(scope.env)), key));
}

/** Hands a shard the L1 hits an isolate counted for it (src/cache/l1-reads.ts). */
export function readsSender(env: Env) {
	return async (shard: string, batch: AccessBatch): Promise<void> => {
		await withTimeout(env.CACHE_SHARDS.getByName(shard).recordReads(batch), SHARD_CALL_MS, "cache record reads");
	};
}

/** Asks a shard for its current entries of keys this isolate renews in L1 (src/cache/l1-renew.ts). */
export function freshFetcher(env: Env): FetchFresh {
	return (shard, keys) => withTimeout(env.CACHE_SHARDS.getByName(shard).peekMany(keys), SHARD_CALL_MS, "cache renew");
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
