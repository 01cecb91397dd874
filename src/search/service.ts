import type { AutocompleteShard, SelectResult } from "../../durable-objects/search-autocomplete-shard";
import type { Suggestion } from "./domain";
import { SEARCH_LIMITS, mergeSuggestions, normalize, shardOf } from "./domain";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";
import { TtlCache } from "../platform/ttl-cache";

/** Autocomplete's I/O: the shard object of an index, and a short isolate cache of popular prefixes. */

export type ShardStub = DurableObjectStub<AutocompleteShard>;

const CALL_TIMEOUT_MS = 5000;
/** Suggestions stay this long in an isolate; writes through this isolate drop its index's entries at once. */
export const SUGGEST_CACHE_TTL_MS = 2000;

// Plain data only: the suggestions answered for (tenant, index, query, limit).
const suggestions = new TtlCache<string, Suggestion[]>({ ttlMs: SUGGEST_CACHE_TTL_MS, maxEntries: 5000 });

export type IndexUpsert = { ok: true; upserted: number; total: number } | { ok: false; total: number };

const SHARDS = SEARCH_LIMITS.shardsPerIndex;

/** Shard `n` of an index: named by tenant and index, so tenants never share one. */
export function shardStub(env: Env, tenantId: string, index: string, n: number): ShardStub {
	return env.AUTOCOMPLETE.getByName(`${tenantId}:${index}:${n}`);
}

/** The shard holding a term (by its normalized text). */
export function termShard(env: Env, tenantId: string, index: string, text: string): ShardStub {
	return shardStub(env, tenantId, index, shardOf(normalize(text), SHARDS));
}

/**
 * A bulk upsert over the index's shards (SHARDS ≤ 6 calls at a time, the per-invocation connection
 * cap): first every shard says whether its part fits, then the parts are written. Refused as a
 * whole when a shard or the index would pass its cap; a concurrent writer to the same index may
 * still fill a shard between the phases, which that shard then refuses alone.
 */
export async function upsertIndex(
	env: Env,
	tenantId: string,
	index: string,
	terms: { text: string; weight: number }[],
): Promise<IndexUpsert> {
	const parts = Array.from({ length: SHARDS }, (): { text: string; weight: number }[] => []);
	for (const t of terms) parts[shardOf(normalize(t.text), SHARDS)]?.push(t);
	const stubs = parts.map((_p, n) => shardStub(env, tenantId, index, n));
	const checks = await callShard(Promise.all(stubs.map((s, n) => s.upsert(parts[n] ?? [], false))), "upsert");
	const after = checks.reduce((sum, r) => sum + r.total, 0);
	if (checks.some((r) => !r.ok) || after > SEARCH_LIMITS.maxTermsPerIndex) return { ok: false, total: after };
	const written = await callShard(
		Promise.all(stubs.map((s, n) => ((parts[n]?.length ?? 0) > 0 ? s.upsert(parts[n] ?? []) : Promise.resolve(null)))),
		"upsert",
	);
	let upserted = 0;
	let total = 0;
	written.forEach((r, n) => {
		const result = r ?? checks[n];
		if (result?.ok && r) upserted += result.upserted;
		total += result?.total ?? 0;
	});
	return { ok: true, upserted, total };
}

export async function removeTerm(env: Env, tenantId: string, index: string, text: string): Promise<boolean> {
	return callShard(termShard(env, tenantId, index, text).remove(text), "remove");
}

export async function selectTerm(env: Env, tenantId: string, index: string, text: string): Promise<SelectResult> {
	return callShard<SelectResult>(termShard(env, tenantId, index, text).select(text), "select");
}

/** One call to a shard, bounded; an unreachable object answers 503. */
export async function callShard<T>(work: PromiseLike<T>, what: string): Promise<T> {
	try {
		return await withTimeout(work, CALL_TIMEOUT_MS, what);
	} catch (error) {
		log.warn("autocomplete call failed", { what, error: errorText(error) });
		throw new AppError(503, "search_unavailable", "The search index could not be reached; retry shortly.", undefined, {
			"Retry-After": "1",
		});
	}
}

/** Suggestions from the isolate cache, else every shard's best, merged. */
export async function suggest(
	env: Env,
	tenantId: string,
	index: string,
	query: string,
	limit: number,
): Promise<Suggestion[]> {
	const key = `${tenantId}:${index}\n${limit}\n${query}`;
	const cached = suggestions.get(key);
	if (cached) return cached;
	const answers = await callShard(
		Promise.all(Array.from({ length: SHARDS }, (_x, n) => shardStub(env, tenantId, index, n).suggest(query, limit))),
		"suggest",
	);
	const answer = mergeSuggestions(answers, limit);
	suggestions.set(key, answer);
	return answer;
}

/** Drops this isolate's cached suggestions of an index after a write to it. */
export function forgetSuggestions(tenantId: string, index: string): void {
	const prefix = `${tenantId}:${index}\n`;
	suggestions.deleteWhere((_value, key) => key.startsWith(prefix));
}
