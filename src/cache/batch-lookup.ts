import type { BatchItem } from "../../durable-objects/cache-shard";
import { CACHE_LIMITS, ttlRemainingSeconds } from "./domain";
import { admitL1, l1Epoch, readL1 } from "./l1";
import type { Defer } from "./l1-reads";
import { countL1Hit } from "./l1-reads";
import { renewSoon } from "./l1-renew";
import { ringFor, shardOf } from "./ring";
import type { CacheScope } from "./service";
import { callShard, freshFetcher, mapBounded, readsSender, shardAt, shardCount, shardName } from "./service";

/** A key's answer: its stored JSON text and expiry, or null for a miss. */
type Found = { valueText: string; expiresAt: number } | null;

/**
 * Batch GET of up to 100 keys: each key this isolate holds in L1 (under the namespace's `l1`
 * setting) is answered from there and counted as an L1 hit, as a GET would be; only the rest go to
 * their shards, one call per shard, at most six at a time. Shard answers count toward L1 admission
 * like GETs. Answers the response's JSON, in the order asked, values inserted as stored (never parsed).
 */
export async function lookupMany(scope: CacheScope, keys: readonly string[], defer: Defer): Promise<string> {
	const now = Date.now();
	const found = new Map<string, Found>();
	const byShard = new Map<number, string[]>();
	const ring = ringFor(shardCount(scope.env));
	for (const key of new Set(keys)) {
		const cached = readL1(scope, key, now);
		if (cached?.shared) {
			countL1Hit(cached.shard, key, now, readsSender(scope.env), defer);
			renewSoon(scope, key, cached, now, freshFetcher(scope.env), defer);
			found.set(key, { valueText: cached.value, expiresAt: cached.expiresAt });
			continue;
		}
		const shard = shardOf(ring, key);
		const group = byShard.get(shard);
		if (group) group.push(key);
		else byShard.set(shard, [key]);
	}
	const since = l1Epoch();
	await mapBounded([...byShard], CACHE_LIMITS.fanOutConcurrency, async ([index, group]) => {
		const answer = await callShard<{ l1: boolean; items: BatchItem[] }>(
			shardAt(scope, index).getMany(group),
			"cache batch get",
		);
		const after = Date.now();
		const shard = shardName(scope, index);
		for (const item of answer.items) {
			if (!item.hit) {
				found.set(item.key, null);
				continue;
			}
			found.set(item.key, { valueText: item.value, expiresAt: item.expiresAt });
			const entry = { value: item.value, expiresAt: item.expiresAt, shard, shared: answer.l1 };
			admitL1(scope, item.key, entry, { force: false, since }, after);
		}
	});
	const answeredAt = Date.now();
	return `{"results":[${keys.map((key) => itemJson(key, found.get(key) ?? null, answeredAt)).join(",")}]}`;
}

function itemJson(key: string, found: Found, now: number): string {
	const name = JSON.stringify(key);
	if (!found) return `{"key":${name},"hit":false}`;
	const ttl = ttlRemainingSeconds(found.expiresAt, now);
	return `{"key":${name},"hit":true,"value":${found.valueText},"ttl_remaining":${ttl}}`;
}
