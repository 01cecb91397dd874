import { DurableObject } from "cloudflare:workers";
import type { Suggestion } from "../src/search/domain";
import { SEARCH_LIMITS } from "../src/search/domain";
import { PrefixIndex } from "../src/search/prefix-index";
import {
	bumpPopularity,
	createShardTables,
	deleteAllTerms,
	deleteTerm,
	readShardNumber,
	readTerms,
	upsertTerms,
	writeShardNumber,
} from "../src/search/shard-db";
import { shardOfKey } from "../src/search/shards";

export type ShardRow = { norm: string; text: string; weight: number };
export type ShardStats = { homeTerms: number; keys: number };
export type ShardPlan = ShardStats & { newHome: number; newKeys: number };
export type UpsertResult = { ok: true; stats: ShardStats } | { ok: false; code: "shard_full"; stats: ShardStats };
export type SelectResult = { ok: true; popularity: number } | { ok: false; code: "unknown_term" };

/**
 * Slack over SEARCH_LIMITS.maxKeysPerShard a write may still take: the caps are checked by the
 * caller before it writes (plan), so only racing imports get here, each adding at most one call.
 */
const HARD_KEY_SLACK = 100_000;
/**
 * The keys are sorted this long after the last write (an import is a burst of calls): in memory
 * only, so a timer rather than an alarm; a suggest before it sorts them itself.
 */
const WARM_AFTER_MS = 1000;

/**
 * One shard of an autocomplete index (`<tenant>:<index>#<shard>`): the terms with a word key in
 * this shard's prefix range (src/search/shards.ts) in SQLite, and those keys in memory as a
 * PrefixIndex rebuilt from SQLite when the object wakes. Writes go to SQLite and memory in the same
 * synchronous turn. Every method names the shard number the caller routed by; the object keeps the
 * first one it is given, and a call naming another is a routing bug.
 */
export class AutocompleteShard extends DurableObject<Env> {
	#shard: number | null = null;
	/** Whether the shard number is in storage: written with the first terms, so reads of an unknown index store nothing. */
	#stored = false;
	#index = new PrefixIndex();
	#home = 0;
	#warmTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createShardTables(ctx.storage.sql);
			const shard = readShardNumber(ctx.storage.sql);
			if (shard === null) return;
			this.#stored = true;
			this.#become(shard);
			for (const term of readTerms(ctx.storage.sql)) this.#put(term);
		});
	}

	/** What writing these (normalized) terms would add, for the caller's cap check across shards. */
	plan(shard: number, norms: string[]): ShardPlan {
		this.#at(shard);
		let newHome = 0;
		let newKeys = 0;
		for (const norm of new Set(norms)) {
			if (this.#index.has(norm)) continue;
			if (shardOfKey(norm) === shard) newHome++;
			newKeys += this.#index.keysOf(norm);
		}
		return { ...this.stats(shard), newHome, newKeys };
	}

	/** Adds terms or replaces their text and weight (rows routed here: each has a word key in this shard). */
	upsert(shard: number, rows: ShardRow[]): UpsertResult {
		this.#at(shard);
		const fresh = rows.filter((r) => !this.#index.has(r.norm));
		const adding = fresh.reduce((n, r) => n + this.#index.keysOf(r.norm), 0);
		if (this.#index.keyCount + adding > SEARCH_LIMITS.maxKeysPerShard + HARD_KEY_SLACK)
			return { ok: false, code: "shard_full", stats: this.stats(shard) };
		this.ctx.storage.transactionSync(() => {
			if (!this.#stored) writeShardNumber(this.ctx.storage.sql, shard);
			upsertTerms(this.ctx.storage.sql, rows);
		});
		this.#stored = true;
		for (const row of rows) this.#put({ ...row, popularity: this.#index.get(row.norm)?.popularity ?? 0 });
		clearTimeout(this.#warmTimer);
		this.#warmTimer = setTimeout(() => this.#index.warm(), WARM_AFTER_MS);
		return { ok: true, stats: this.stats(shard) };
	}

	suggest(shard: number, query: string, limit: number): Suggestion[] {
		this.#at(shard);
		return this.#index.suggest(query, limit);
	}

	/** Removes a term (normalized text); false when this shard has none. */
	remove(shard: number, norm: string): boolean {
		this.#at(shard);
		if (!this.#index.has(norm)) return false;
		deleteTerm(this.ctx.storage.sql, norm);
		this.#index.delete(norm);
		if (shardOfKey(norm) === shard) this.#home--;
		return true;
	}

	/** A suggestion the user picked: one popularity point, which ranks it higher from now on. */
	select(shard: number, norm: string): SelectResult {
		this.#at(shard);
		const term = this.#index.get(norm);
		if (!term) return { ok: false, code: "unknown_term" };
		bumpPopularity(this.ctx.storage.sql, norm);
		const popularity = term.popularity + 1;
		this.#index.put({ ...term, popularity });
		return { ok: true, popularity };
	}

	/** Empties the shard; answers how many terms had it as their home. */
	clear(shard: number): number {
		this.#at(shard);
		const home = this.#home;
		deleteAllTerms(this.ctx.storage.sql);
		this.#index.clear();
		this.#home = 0;
		return home;
	}

	/** Terms whose full text starts in this shard (an index's count is the sum), and word keys in memory. */
	stats(shard: number): ShardStats {
		this.#at(shard);
		return { homeTerms: this.#home, keys: this.#index.keyCount };
	}

	#put(term: { norm: string; text: string; weight: number; popularity: number }): void {
		const isNew = !this.#index.has(term.norm);
		this.#index.put(term);
		if (isNew && shardOfKey(term.norm) === this.#shard) this.#home++;
	}

	#at(shard: number): void {
		if (this.#shard === shard) return;
		if (this.#shard !== null) throw new Error(`autocomplete shard ${this.#shard} was called as shard ${shard}`);
		this.#become(shard);
	}

	#become(shard: number): void {
		this.#shard = shard;
		this.#index = new PrefixIndex((key) => shardOfKey(key) === shard);
	}
}
