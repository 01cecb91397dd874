import { z } from "zod";
import type { Suggestion } from "./domain";
import { SEARCH_LIMITS, mergeSuggestions, normalize, wordKeys } from "./domain";
import { callShard, shardStub } from "./service";
import { fuzzyShards, shardsForPrefix } from "./shards";
import { SuggestCache } from "./suggest-cache";

/**
 * Suggest: the shard(s) that can hold a prefix, merged. Every answer asked twice within a few
 * seconds (at once for 1–3 character prefixes) is kept in this isolate (src/search/suggest-cache.ts:
 * bounded, dropped by this isolate's writes to the index, at most SUGGEST_TTL_MS old otherwise);
 * short prefixes (the hot ones: few, and the costliest to rank) also in the Cache API for EDGE_MAX_AGE_S.
 */

export type CacheOutcome = "isolate" | "edge" | "miss";

/** Normalized prefixes up to this length are cached at the edge, as their top SEARCH_LIMITS.maxLimit. */
export const EDGE_PREFIX_MAX = 3;
export const EDGE_MAX_AGE_S = 10;
export { SUGGEST_TTL_MS } from "./suggest-cache";

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

// Plain strings only: the JSON of the suggestions answered for (tenant, index, normalized prefix, limit).
const answers = new SuggestCache({ name: "search_suggest" });

/** The best `limit` completions of a query as the JSON text of their array, and where they came from. */
export async function suggest(
	env: Env,
	ctx: Pick<ExecutionContext, "waitUntil">,
	tenantId: string,
	index: string,
	query: string,
	limit: number,
): Promise<{ json: string; cache: CacheOutcome }> {
	const prefix = normalize(query);
	if (prefix === "") return { json: "[]", cache: "miss" };
	const ask: Ask = { scope: scopeOf(tenantId, index), key: `${prefix}\n${limit}`, tenantId, index, prefix, limit };
	const cached = answers.get(ask.scope, ask.key);
	if (cached) {
		// A hot answer past half its TTL: asked again behind this response, so its next asker still hits.
		if (cached.refresh) ctx.waitUntil(answer(env, ctx, ask, false).catch(() => undefined));
		return { json: cached.json, cache: "isolate" };
	}
	return answer(env, ctx, ask, true);
}

type Ask = { scope: string; key: string; tenantId: string; index: string; prefix: string; limit: number };

/** Asks the edge (short prefixes, unless refreshing) or the shards, and keeps the answer. */
async function answer(
	env: Env,
	ctx: Pick<ExecutionContext, "waitUntil">,
	ask: Ask,
	useEdge: boolean,
): Promise<{ json: string; cache: CacheOutcome }> {
	const { tenantId, index, prefix, limit } = ask;
	const ticket = answers.ticket();
	if (prefix.length > EDGE_PREFIX_MAX) {
		const json = JSON.stringify(await fromShards(env, tenantId, index, prefix, limit));
		answers.put(ask.scope, ask.key, json, ticket, !useEdge);
		return { json, cache: "miss" };
	}
	// Short prefixes never take the typo path, so the top maxLimit sliced is the answer for every limit.
	const url = edgeUrl(tenantId, index, prefix);
	const hit = useEdge ? await caches.default.match(url) : undefined;
	const parsed = hit ? suggestionList.safeParse(await hit.json()) : null;
	if (parsed?.success) {
		const json = JSON.stringify(parsed.data.slice(0, limit));
		answers.put(ask.scope, ask.key, json, ticket, true);
		return { json, cache: "edge" };
	}
	const top = await fromShards(env, tenantId, index, prefix, SEARCH_LIMITS.maxLimit);
	const json = JSON.stringify(top.slice(0, limit));
	// An answer asked before a write of this isolate landed is neither kept here nor put at the edge.
	if (answers.put(ask.scope, ask.key, json, ticket, true)) {
		const headers = { "Content-Type": "application/json", "Cache-Control": `max-age=${EDGE_MAX_AGE_S}` };
		ctx.waitUntil(caches.default.put(url, new Response(JSON.stringify(top), { headers })));
	}
	return { json, cache: "miss" };
}

/** Drops this isolate's cached suggestions of an index after a write to it. */
export function forgetSuggestions(tenantId: string, index: string): void {
	answers.written(scopeOf(tenantId, index));
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
	// A query that matched as typed has its first two letters right, so typo matches that change them
	// (the only ones other shards hold) are asked for only when it matched nothing: a typo costs at
	// most two rounds, and most long prefixes (a few exact matches) one call.
	if (merged.some((s) => !s.fuzzy)) return merged;
	// None: one-edit matches may live in the shards of the prefix's first or second letter.
	const others = fuzzyShards(prefix).filter((s) => !exactShards.includes(s));
	if (others.length > 0) merged = mergeSuggestions([merged, ...(await ask(others))], limit);
	return merged;
}

/** Tenant ids and index names hold no newline, so tenants' scopes never collide. */
function scopeOf(tenantId: string, index: string): string {
	return `${tenantId}\n${index}`;
}

function edgeUrl(tenantId: string, index: string, prefix: string): string {
	return `https://autocomplete.floodgate.internal/${encodeURIComponent(tenantId)}/${index}/${encodeURIComponent(prefix)}`;
}
