import type { BatchItem, Loader, LookupResult } from "../../durable-objects/cache-shard";
import { checkDestination } from "../platform/destination";
import { AppError } from "../platform/errors";
import { ttlRemainingSeconds } from "./domain";
import { loaderPolicy } from "./loader";
import { ringFor, shardOf } from "./ring";
import type { CacheScope } from "./service";
import {
	callShard,
	mapBounded,
	namespaceUsesL1,
	readL1,
	rememberNamespaceL1,
	shardAt,
	shardCount,
	shardForKey,
	writeL1,
} from "./service";
import { CACHE_LIMITS } from "./domain";

/** A lookup as the API answers it. */
export type CacheAnswer = {
	key: string;
	value: unknown;
	hit: boolean;
	loaded?: true;
	ttl_remaining: number;
	source: "l1" | "shard" | "loader";
};

/**
 * GET of one key: this isolate's L1 first (when asked or the namespace opts in), then the key's
 * shard, which loads a miss from `loader` when one is given. Errors map to the API's codes.
 */
export async function lookup(
	scope: CacheScope,
	key: string,
	useL1: boolean,
	loader: Loader | null,
): Promise<CacheAnswer> {
	const now = Date.now();
	const l1 = useL1 || namespaceUsesL1(scope);
	const cached = l1 ? readL1(scope, key, now) : undefined;
	if (cached) {
		const ttl = ttlRemainingSeconds(cached.expiresAt, now);
		return { key, value: JSON.parse(cached.value), hit: true, ttl_remaining: ttl, source: "l1" };
	}
	if (loader) {
		const check = checkDestination(loader.url, loaderPolicy(scope.env));
		if (!check.ok) throw destinationError(check.reason);
	}
	const result = await callShard<LookupResult>(shardForKey(scope, key).get(key, loader), "cache get");
	if (!result.ok) throw lookupError(key, result);
	rememberNamespaceL1(scope, result.l1);
	if (l1 || result.l1) writeL1(scope, key, { value: result.value, expiresAt: result.expiresAt });
	const ttl = ttlRemainingSeconds(result.expiresAt, Date.now());
	const value: unknown = JSON.parse(result.value);
	if (!result.hit) return { key, value, hit: false, loaded: true, ttl_remaining: ttl, source: "loader" };
	return { key, value, hit: true, ttl_remaining: ttl, source: "shard" };
}

/** Up to 100 keys: grouped by shard, the shards asked at most six at a time, answered in the order asked. */
export async function lookupMany(scope: CacheScope, keys: readonly string[]) {
	const ring = ringFor(shardCount(scope.env));
	const byShard = new Map<number, string[]>();
	for (const key of new Set(keys)) {
		const shard = shardOf(ring, key);
		byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
	}
	const found = new Map<string, BatchItem>();
	const groups = [...byShard.entries()];
	await mapBounded(groups, CACHE_LIMITS.fanOutConcurrency, async ([shard, group]) => {
		const items = await callShard<BatchItem[]>(shardAt(scope, shard).getMany(group), "cache batch get");
		for (const item of items) found.set(item.key, item);
	});
	const now = Date.now();
	return keys.map((key) => {
		const item = found.get(key);
		if (!item?.hit) return { key, hit: false };
		const value: unknown = JSON.parse(item.value);
		return { key, hit: true, value, ttl_remaining: ttlRemainingSeconds(item.expiresAt, now) };
	});
}

export function destinationError(reason: string): AppError {
	return new AppError(400, "destination_not_allowed", `The loader URL is not allowed: ${reason}.`);
}

function lookupError(key: string, result: Exclude<LookupResult, { ok: true }>): AppError {
	switch (result.code) {
		case "cache_miss":
			return new AppError(404, "cache_miss", `No live entry for '${key}'.`, { key, hit: false });
		case "destination_not_allowed":
			return destinationError(result.reason);
		case "value_too_large":
			return new AppError(413, "value_too_large", `The loaded value cannot be cached: ${result.reason}.`);
		case "loader_invalid":
			return new AppError(422, "loader_invalid", `The loader's answer cannot be cached: ${result.reason}.`);
		case "loader_failed":
			return new AppError(503, "loader_failed", `The loader failed: ${result.reason}.`, { status: result.status });
	}
}
