import type { Loader, LookupResult } from "../../durable-objects/cache-shard";
import { checkDestination } from "../platform/destination";
import { AppError } from "../platform/errors";
import { ttlRemainingSeconds } from "./domain";
import { admitL1, dropL1, dropL1Shard, l1Epoch, readL1 } from "./l1";
import type { Defer } from "./l1-reads";
import { countL1Hit, flushL1Hits, forgetL1Hits } from "./l1-reads";
import { loaderPolicy } from "./loader";
import type { CacheScope } from "./service";
import { renewSoon, warmShard } from "./l1-renew";
import { callShard, freshFetcher, readsSender, shardName, shardNameForKey } from "./service";

/** A lookup as the API answers it, the value still as its stored JSON text. */
export type CacheAnswer = {
	key: string;
	valueText: string;
	hit: boolean;
	loaded?: true;
	ttl_remaining: number;
	source: "l1" | "shard" | "loader";
};

/** `?l1`: absent follows the namespace setting, "1" uses L1 whatever it is, "0" asks the shard. */
export type L1Choice = "0" | "1" | undefined;

/**
 * GET of one key: this isolate's L1 first (unless `?l1=0`), then the key's shard, which loads a
 * miss from `loader` when one is given. An L1 hit is counted for the shard in the background
 * (`defer`). Errors map to the API's codes.
 */
export async function lookup(
	scope: CacheScope,
	key: string,
	l1: L1Choice,
	loader: Loader | null,
	defer: Defer,
): Promise<CacheAnswer> {
	const now = Date.now();
	const cached = l1 === "0" ? undefined : readL1(scope, key, now);
	if (cached && (cached.shared || l1 === "1")) {
		countL1Hit(cached.shard, key, now, readsSender(scope.env), defer);
		// Read-through keys are not renewed: their shard reads carry the loader XFetch refreshes with.
		if (!loader) renewSoon(scope, key, cached, now, freshFetcher(scope.env), defer);
		const ttl = ttlRemainingSeconds(cached.expiresAt, now);
		return { key, valueText: cached.value, hit: true, ttl_remaining: ttl, source: "l1" };
	}
	if (loader) {
		const check = checkDestination(loader.url, loaderPolicy(scope.env));
		if (!check.ok) throw destinationError(check.reason);
	}
	const shard = shardNameForKey(scope, key);
	const since = l1Epoch();
	// This isolate's other hot keys of the shard whose copies expired come back in one background call.
	const wasHot = !loader && l1 !== "0" && warmShard(scope, shard, key, now, freshFetcher(scope.env), defer);
	const stub = scope.env.CACHE_SHARDS.getByName(shard);
	const result = await callShard<LookupResult>(stub.get(key, loader), "cache get");
	if (!result.ok) throw lookupError(key, result);
	const after = Date.now();
	const entry = { value: result.value, expiresAt: result.expiresAt, shard, shared: result.l1 };
	// A key of the recent hot set is taken back at once (it has shown its reads already).
	admitL1(scope, key, entry, { force: l1 === "1" || (wasHot && result.l1), since }, after);
	const ttl = ttlRemainingSeconds(result.expiresAt, after);
	if (!result.hit)
		return { key, valueText: result.value, hit: false, loaded: true, ttl_remaining: ttl, source: "loader" };
	return { key, valueText: result.value, hit: true, ttl_remaining: ttl, source: "shard" };
}

/** The answer's JSON: the stored text goes in as it is (it is JSON already), never parsed again. */
export function answerJson(answer: CacheAnswer): string {
	const loaded = answer.loaded ? `,"loaded":true` : "";
	return (
		`{"key":${JSON.stringify(answer.key)},"value":${answer.valueText},"hit":${answer.hit}${loaded},` +
		`"ttl_remaining":${answer.ttl_remaining},"source":"${answer.source}"}`
	);
}

/**
 * After a write or delete of `key` through this isolate: no L1 copy, no unsent recency for it; when
 * the write evicted entries, none of its shard's keys stay in this isolate's L1 either.
 */
export function forgetLocally(scope: CacheScope, key: string, evicted = 0): void {
	const shard = shardNameForKey(scope, key);
	dropL1(scope, key);
	if (evicted > 0) dropL1Shard(shard);
	forgetL1Hits(shard, key);
}

/** Before a write: this isolate's unsent L1 hits of the key's shard, so its eviction order sees them. */
export function flushShardHits(scope: CacheScope, key: string): Promise<void> {
	const shard = shardNameForKey(scope, key);
	return flushL1Hits((name) => name === shard, readsSender(scope.env));
}

/** Sends this isolate's unsent L1 hits of a namespace to its shards (before its stats are read). */
export function flushNamespaceHits(scope: CacheScope): Promise<void> {
	const prefix = shardName(scope, 0).slice(0, -1);
	return flushL1Hits((shard) => shard.startsWith(prefix), readsSender(scope.env));
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
