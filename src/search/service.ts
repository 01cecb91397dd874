import type {
	AutocompleteShard,
	SelectResult,
	ShardPlan,
	ShardRow,
	UpsertResult,
} from "../../durable-objects/search-autocomplete-shard";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";
import { SEARCH_LIMITS, normalize } from "./domain";
import { SHARD_BOUNDS, SHARD_COUNT, overCap, shardsOfTerm } from "./shards";

/** Autocomplete's writes across the shard objects of an index (reads: suggest.ts). */

export type ShardStub = DurableObjectStub<AutocompleteShard>;
export type IndexStats = { terms: number; shards: { shard: number; terms: number; keys: number }[] };

const CALL_TIMEOUT_MS = 5000;
const ALL_SHARDS = Array.from({ length: SHARD_COUNT }, (_, i) => i);

/** Shard `shard` of one index: SHARD_COUNT objects per tenant and index name, so tenants never share one. */
export function shardStub(env: Env, tenantId: string, index: string, shard: number): ShardStub {
	return env.AUTOCOMPLETE.getByName(`${tenantId}:${index}#${shard}`);
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

/**
 * Adds terms or replaces their weight. Each term goes to the shards of its word keys; first every
 * shard says what the call would add (the index and per-shard caps are checked on that, so a call
 * over a cap writes nothing), then the touched shards write in parallel.
 */
export async function importTerms(
	env: Env,
	tenantId: string,
	index: string,
	terms: readonly { text: string; weight: number }[],
): Promise<{ upserted: number; total: number }> {
	const byNorm = new Map<string, ShardRow>();
	for (const t of terms) {
		const norm = normalize(t.text);
		if (norm !== "") byNorm.set(norm, { norm, text: t.text.trim(), weight: t.weight });
	}
	const perShard = new Map<number, ShardRow[]>();
	for (const row of byNorm.values()) {
		for (const shard of shardsOfTerm(row.norm).all) {
			const rows = perShard.get(shard);
			if (rows) rows.push(row);
			else perShard.set(shard, [row]);
		}
	}
	const stub = (shard: number) => shardStub(env, tenantId, index, shard);
	const plans = await Promise.all(
		ALL_SHARDS.map((s) =>
			callShard<ShardPlan>(
				stub(s).plan(
					s,
					(perShard.get(s) ?? []).map((r) => r.norm),
				),
				"plan",
			),
		),
	);
	const over = overCap(plans);
	if (over?.shard !== undefined) {
		const from = SHARD_BOUNDS[over.shard] ?? "";
		throw new AppError(
			422,
			"index_full",
			`Index '${index}' would pass ${SEARCH_LIMITS.maxKeysPerShard} word keys starting from '${from}' (one shard).`,
			over,
		);
	}
	if (over) {
		throw new AppError(422, "index_full", `Index '${index}' would pass ${SEARCH_LIMITS.maxTermsPerIndex} terms.`, over);
	}
	const touched = [...perShard.keys()];
	const results = await Promise.all(
		touched.map((s) => callShard<UpsertResult>(stub(s).upsert(s, perShard.get(s) ?? []), "upsert")),
	);
	const homeAfter = new Map(plans.map((p, s) => [s, p.homeTerms]));
	results.forEach((r, i) => homeAfter.set(touched[i] ?? 0, r.stats.homeTerms));
	const full = results.findIndex((r) => !r.ok);
	if (full >= 0) {
		// Only reachable when imports race past the planned check: the other shards' rows stand.
		throw new AppError(422, "index_full", "A shard of this index is full; part of this call may be applied.", {
			shard: touched[full],
		});
	}
	return { upserted: byNorm.size, total: [...homeAfter.values()].reduce((a, b) => a + b, 0) };
}

/** Removes a term from every shard holding it; false when the index has none by that text. */
export async function removeTerm(env: Env, tenantId: string, index: string, text: string): Promise<boolean> {
	const norm = normalize(text);
	const { home, all } = shardsOfTerm(norm);
	const done = await Promise.all(
		all.map((s) => callShard(shardStub(env, tenantId, index, s).remove(s, norm), "remove")),
	);
	return done[all.indexOf(home)] ?? false;
}

/** One popularity point in every shard holding the term; null when the index has none by that text. */
export async function selectTerm(env: Env, tenantId: string, index: string, text: string): Promise<number | null> {
	const norm = normalize(text);
	const { home, all } = shardsOfTerm(norm);
	const done = await Promise.all(
		all.map((s) => callShard<SelectResult>(shardStub(env, tenantId, index, s).select(s, norm), "select")),
	);
	const owner = done[all.indexOf(home)];
	return owner?.ok ? owner.popularity : null;
}

/** Empties every shard of an index; answers how many terms it had. */
export async function clearIndex(env: Env, tenantId: string, index: string): Promise<number> {
	const removed = await Promise.all(
		ALL_SHARDS.map((s) => callShard(shardStub(env, tenantId, index, s).clear(s), "clear")),
	);
	return removed.reduce((a, b) => a + b, 0);
}

/** Terms of an index and, per shard, its terms (by their first word) and word keys in memory. */
export async function indexStats(env: Env, tenantId: string, index: string): Promise<IndexStats> {
	const stats = await Promise.all(
		ALL_SHARDS.map((s) => callShard(shardStub(env, tenantId, index, s).stats(s), "stats")),
	);
	const shards = stats.map((st, shard) => ({ shard, terms: st.homeTerms, keys: st.keys }));
	return { terms: shards.reduce((n, s) => n + s.terms, 0), shards };
}
