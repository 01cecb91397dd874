import { z } from "zod";

/**
 * Where an idempotency key lives: a row in one of a tenant's IdempotencyShard objects, chosen by a
 * hash of the key's scope modulo the tenant's shard count. No I/O; unit-tested alone.
 *
 * Growth: raising a tenant's count moves some keys to another shard. The plan then names the
 * previous count and until when keys made under it may still be in their retention window; during
 * that window a fresh key is also looked up in its previous shard (store.ts), so no live key is lost.
 */

export type ShardPlan = {
	shards: number;
	/** The count before the last growth, looked up for fresh keys until `until` (ms). */
	previous: { shards: number; until: number } | null;
};

/** At most this many shards per tenant (each ~1,000 req/s in production: far beyond any tenant). */
export const MAX_SHARDS = 1024;

const count = z.number().int().min(1).max(MAX_SHARDS);
const planEntry = z.object({
	shards: count,
	previous_shards: count.optional(),
	previous_until: z.iso.datetime({ offset: true }).optional(),
});
/** IDEMPOTENCY_SHARD_PLANS: per tenant id (or "*" for every tenant not named) a count and its growth. */
export const shardPlansSchema = z.record(z.string(), planEntry);
export type ShardPlans = z.infer<typeof shardPlansSchema>;

/** FNV-1a (32 bit): a fast, stable hash of the key's scope; not a secret, only a spread. */
export function fnv1a(text: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		hash ^= text.charCodeAt(i);
		hash = Math.imul(hash, 0x01000193);
	}
	return hash >>> 0;
}

export function shardIndex(scope: string, shards: number): number {
	return fnv1a(scope) % shards;
}

/** The object name of one shard: `<tenant>:<index>` (the count is not in it, so growth keeps most keys in place). */
export function shardName(tenantId: string, index: number): string {
	return `${tenantId}:${index}`;
}

/**
 * The tenant's plan: its own entry, else "*", else `defaultShards` with no growth window.
 * Throws on a malformed configuration (a deploy mistake, not input).
 */
export function planFor(tenantId: string, plans: ShardPlans, defaultShards: number): ShardPlan {
	const entry = plans[tenantId] ?? plans["*"];
	if (entry === undefined) return { shards: count.parse(defaultShards), previous: null };
	const { shards, previous_shards, previous_until } = entry;
	if (previous_shards === undefined || previous_until === undefined) return { shards, previous: null };
	return { shards, previous: { shards: previous_shards, until: Date.parse(previous_until) } };
}

/**
 * The shard names to consult for `scope`, home first: the current shard, then (while the growth
 * window lasts and the key moved) its previous shard.
 */
export function shardNames(tenantId: string, scope: string, plan: ShardPlan, now: number): string[] {
	const home = shardName(tenantId, shardIndex(scope, plan.shards));
	if (plan.previous === null || plan.previous.until <= now) return [home];
	const before = shardName(tenantId, shardIndex(scope, plan.previous.shards));
	return before === home ? [home] : [home, before];
}

/** Parses IDEMPOTENCY_SHARD_PLANS ("" or "{}" for none); cached per configuration string. */
export function parseShardPlans(text: string): ShardPlans {
	const cached = parsedPlans.get(text);
	if (cached) return cached;
	const plans = text.trim() === "" ? {} : shardPlansSchema.parse(JSON.parse(text));
	parsedPlans.set(text, plans);
	return plans;
}

// Configuration strings only (a handful per deploy), not request state.
const parsedPlans = new Map<string, ShardPlans>();
