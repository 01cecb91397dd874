import type { AutocompleteShard } from "../../durable-objects/search-autocomplete-shard";
import type { Suggestion } from "./domain";
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

/** The object of one index: one per tenant and index name, so tenants never share one. */
export function shardStub(env: Env, tenantId: string, index: string): ShardStub {
	return env.AUTOCOMPLETE.getByName(`${tenantId}:${index}`);
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

/** Suggestions from the isolate cache, else from the shard. */
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
	const answer = await callShard(shardStub(env, tenantId, index).suggest(query, limit), "suggest");
	suggestions.set(key, answer);
	return answer;
}

/** Drops this isolate's cached suggestions of an index after a write to it. */
export function forgetSuggestions(tenantId: string, index: string): void {
	const prefix = `${tenantId}:${index}\n`;
	suggestions.deleteWhere((_value, key) => key.startsWith(prefix));
}
