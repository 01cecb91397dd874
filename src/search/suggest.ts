import { z } from "zod";
import type { Suggestion } from "./domain";
import { TtlCache } from "../platform/ttl-cache";
import { SEARCH_LIMITS, mergeSuggestions, normalize, wordKeys } from "./domain";
import { callShard, shardStub } from "./service";
import { fuzzyShards, shardsForPrefix } from "./shards";

/**
 * Suggest: the shard(s) that can hold a prefix, merged; short prefixes (the hot ones: few, and the
 * costliest to rank) cached in the Cache API for EDGE_MAX_AGE_S and in the isolate for 2 s.
 */

export type CacheOutcome = "isolate" | "edge" | "miss";

/** Normalized prefixes up to this length are cached at the edge, as their top SEARCH_LIMITS.maxLimit. */
export const EDGE_PREFIX_MAX = 3;
export const EDGE_MAX_AGE_S = 10;
/** Suggestions stay this long in an isolate; writes through this isolate drop its index's entries at once. */
export const SUGGEST_CACHE_TTL_MS = 2000;

const suggestionList = z.array(
	z.object({
		text: z.string(),
		weight: z.number(),
		popularity: z.number(),
		score: z.number(),
		highlight: z.object({ start: z.number(), end: z.number() }),
		fuzzy: z.boolean(),
	}),
);

// Plain data only: the suggestions answered for (tenant, index, normalized prefix[, limit]).
const suggestions = new TtlCache<string, Suggestion[]>({ ttlMs: SUGGEST_CACHE_TTL_MS, maxEntries: 5000 });

/** The best `limit` completions of a query, and where they came from. */
export async function suggest(
	env: Env,
	ctx: Pick<ExecutionContext, "waitUntil">,
	tenantId: string,
	index: string,
	query: string,
	limit: number,
): Promise<{ suggestions: Suggestion[]; cache: CacheOutcome }> {
	const prefix = normalize(query);
	if (prefix === "") return { suggestions: [], cache: "miss" };
	if (prefix.length > EDGE_PREFIX_MAX) {
		const key = `${tenantId}:${index}\n${prefix}\n${limit}`;
		const cached = suggestions.get(key);
		if (cached) return { suggestions: cached, cache: "isolate" };
		const answer = await fromShards(env, tenantId, index, prefix, limit);
		suggestions.set(key, answer);
		return { suggestions: answer, cache: "miss" };
	}
	// Short prefixes never take the typo path, so the top maxLimit sliced is the answer for every limit.
	const key = `${tenantId}:${index}\n${prefix}`;
	const cached = suggestions.get(key);
	if (cached) return { suggestions: cached.slice(0, limit), cache: "isolate" };
	const url = edgeUrl(tenantId, index, prefix);
	const hit = await caches.default.match(url);
	const parsed = hit ? suggestionList.safeParse(await hit.json()) : null;
	if (parsed?.success) {
		suggestions.set(key, parsed.data);
		return { suggestions: parsed.data.slice(0, limit), cache: "edge" };
	}
	const answer = await fromShards(env, tenantId, index, prefix, SEARCH_LIMITS.maxLimit);
	suggestions.set(key, answer);
	const body = JSON.stringify(answer);
	const headers = { "Content-Type": "application/json", "Cache-Control": `max-age=${EDGE_MAX_AGE_S}` };
	ctx.waitUntil(caches.default.put(url, new Response(body, { headers })));
	return { suggestions: answer.slice(0, limit), cache: "miss" };
}

/** Drops this isolate's cached suggestions of an index after a write to it. */
export function forgetSuggestions(tenantId: string, index: string): void {
	const prefix = `${tenantId}:${index}\n`;
	suggestions.deleteWhere((_value, key) => key.startsWith(prefix));
}

/**
 * After a single-term write (selection, deletion): drops this data centre's edge entries of the
 * term's short prefixes (at most 8 words × 3 lengths), and the isolate's entries of the index.
 */
export async function purgeTerm(tenantId: string, index: string, text: string): Promise<void> {
	forgetSuggestions(tenantId, index);
	const prefixes = new Set<string>();
	for (const { key } of wordKeys(normalize(text))) {
		for (let n = 1; n <= Math.min(EDGE_PREFIX_MAX, key.length); n++) prefixes.add(key.slice(0, n));
	}
	await Promise.all([...prefixes].map((p) => caches.default.delete(edgeUrl(tenantId, index, p))));
}

async function fromShards(
	env: Env,
	tenantId: string,
	index: string,
	prefix: string,
	limit: number,
): Promise<Suggestion[]> {
	const ask = (shards: number[]) =>
		Promise.all(shards.map((s) => callShard(shardStub(env, tenantId, index, s).suggest(s, prefix, limit), "suggest")));
	const exactShards = shardsForPrefix(prefix);
	const lists = await ask(exactShards);
	let merged = lists.length === 1 ? (lists[0] ?? []) : mergeSuggestions(lists, limit);
	if (merged.length >= limit || prefix.length < SEARCH_LIMITS.fuzzyMinLength) return merged;
	// Too few: one-edit matches may live in the shards of the prefix's first or second letter.
	const others = fuzzyShards(prefix).filter((s) => !exactShards.includes(s));
	if (others.length > 0) merged = mergeSuggestions([merged, ...(await ask(others))], limit);
	return merged;
}

function edgeUrl(tenantId: string, index: string, prefix: string): string {
	return `https://autocomplete.floodgate.internal/${encodeURIComponent(tenantId)}/${index}/${encodeURIComponent(prefix)}`;
}
