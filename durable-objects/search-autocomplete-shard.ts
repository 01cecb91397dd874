import { DurableObject } from "cloudflare:workers";
import type { Suggestion } from "../src/search/domain";
import { SEARCH_LIMITS, normalize } from "../src/search/domain";
import { PrefixIndex } from "../src/search/prefix-index";
import {
	bumpPopularity,
	createShardTables,
	deleteAllTerms,
	deleteTerm,
	markPrefixes,
	prefixRowText,
	prefixesComplete,
	readPrefixRows,
	readPrefixTop,
	readShardNumber,
	readTerms,
	readTermsPage,
	upsertTerms,
	writePrefixRows,
	writeShardNumber,
} from "../src/search/shard-db";
import { shardOfKey } from "../src/search/shards";
import { errorText, log } from "../src/platform/log";

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
 * This long after the last write (an import is a burst of calls) the new keys are sorted in and the
 * short prefixes' rows rewritten: a timer rather than an alarm, because the rows are marked stale
 * in the write's own transaction, so a wake before the timer only loses the fast start.
 */
const SETTLE_AFTER_MS = 1000;
/** Normalized prefixes up to this length have a stored row (the hot, costly-to-rank ones). */
export const STORED_PREFIX_MAX = 3;
/** Terms read per page when a woken shard loads in the background, yielding between pages. */
const LOAD_PAGE = 20_000;

/**
 * One shard of an autocomplete index (`<tenant>:<index>#<shard>`): the terms with a word key in
 * this shard's prefix range (src/search/shards.ts) in SQLite, and those keys in memory as a
 * PrefixIndex. A woken shard whose prefix rows are complete loads its terms in pages in the
 * background and meanwhile answers prefixes of up to STORED_PREFIX_MAX characters from their rows
 * (one indexed read); longer prefixes and writes wait for the load. Writes go to SQLite and memory
 * in the same synchronous turn. Every method names the shard number the caller routed by; the
 * object keeps the first one it is given, and a call naming another is a routing bug.
 */
export class AutocompleteShard extends DurableObject<Env> {
	#shard: number | null = null;
	/** Whether the shard number is in storage: written with the first terms, so reads of an unknown index store nothing. */
	#stored = false;
	#index = new PrefixIndex();
	#home = 0;
	#settleTimer: ReturnType<typeof setTimeout> | undefined;
	/** Woken with complete prefix rows: the terms are loaded in the background from the first call. */
	#loadDue = false;
	/** The background load of a woken shard; null once every term is in memory. */
	#loading: Promise<void> | null = null;
	/** Whether the stored prefix rows match the terms (false from a write until the rows are rewritten). */
	#complete = false;
	/** The prefix rows as last written, read once before the first rewrite after a wake. */
	#rows: Map<string, string> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createShardTables(ctx.storage.sql);
			const shard = readShardNumber(ctx.storage.sql);
			if (shard === null) return;
			this.#stored = true;
			this.#become(shard);
			this.#complete = prefixesComplete(ctx.storage.sql);
			if (this.#complete) {
				this.#loadDue = true;
				return;
			}
			// Rows never written (an object from before them) or stale: load now, then write them.
			for (const term of readTerms(ctx.storage.sql)) this.#put(term);
			this.#scheduleSettle();
		});
	}

	/** What writing these (normalized) terms would add, for the caller's cap check across shards. */
	async plan(shard: number, norms: string[]): Promise<ShardPlan> {
		this.#at(shard);
		await this.#load();
		let newHome = 0;
		let newKeys = 0;
		for (const norm of new Set(norms)) {
			if (this.#index.has(norm)) continue;
			if (shardOfKey(norm) === shard) newHome++;
			newKeys += this.#index.keysOf(norm);
		}
		return { ...this.#stats(), newHome, newKeys };
	}

	/** Adds terms or replaces their text and weight (rows routed here: each has a word key in this shard). */
	async upsert(shard: number, rows: ShardRow[]): Promise<UpsertResult> {
		this.#at(shard);
		await this.#load();
		const fresh = rows.filter((r) => !this.#index.has(r.norm));
		const adding = fresh.reduce((n, r) => n + this.#index.keysOf(r.norm), 0);
		if (this.#index.keyCount + adding > SEARCH_LIMITS.maxKeysPerShard + HARD_KEY_SLACK)
			return { ok: false, code: "shard_full", stats: this.#stats() };
		this.ctx.storage.transactionSync(() => {
			if (!this.#stored) writeShardNumber(this.ctx.storage.sql, shard);
			upsertTerms(this.ctx.storage.sql, rows);
			this.#stale();
		});
		this.#stored = true;
		for (const row of rows) this.#put({ ...row, popularity: this.#index.get(row.norm)?.popularity ?? 0 });
		this.#scheduleSettle();
		return { ok: true, stats: this.#stats() };
	}

	async suggest(shard: number, query: string, limit: number): Promise<Suggestion[]> {
		this.#at(shard);
		const loading = this.#load();
		if (loading) {
			const prefix = normalize(query);
			if (prefix.length > 0 && prefix.length <= STORED_PREFIX_MAX && !/[\ud800-\udbff]$/.test(prefix)) {
				return this.#index.present(readPrefixTop(this.ctx.storage.sql, prefix) ?? [], prefix, limit);
			}
			await loading;
		}
		return this.#index.suggest(query, limit);
	}

	/** Removes a term (normalized text); false when this shard has none. */
	async remove(shard: number, norm: string): Promise<boolean> {
		this.#at(shard);
		await this.#load();
		if (!this.#index.has(norm)) return false;
		this.ctx.storage.transactionSync(() => {
			deleteTerm(this.ctx.storage.sql, norm);
			this.#stale();
		});
		this.#index.delete(norm);
		if (shardOfKey(norm) === shard) this.#home--;
		this.#scheduleSettle();
		return true;
	}

	/** A suggestion the user picked: one popularity point, which ranks it higher from now on. */
	async select(shard: number, norm: string): Promise<SelectResult> {
		this.#at(shard);
		await this.#load();
		const term = this.#index.get(norm);
		if (!term) return { ok: false, code: "unknown_term" };
		this.ctx.storage.transactionSync(() => {
			bumpPopularity(this.ctx.storage.sql, norm);
			this.#stale();
		});
		const popularity = term.popularity + 1;
		this.#index.put({ ...term, popularity });
		this.#scheduleSettle();
		return { ok: true, popularity };
	}

	/** Empties the shard; answers how many terms had it as their home. */
	async clear(shard: number): Promise<number> {
		this.#at(shard);
		await this.#load();
		const home = this.#home;
		deleteAllTerms(this.ctx.storage.sql);
		this.#index.clear();
		this.#home = 0;
		this.#complete = true;
		this.#rows = new Map();
		return home;
	}

	/** Terms whose full text starts in this shard (an index's count is the sum), and word keys in memory. */
	async stats(shard: number): Promise<ShardStats> {
		this.#at(shard);
		await this.#load();
		return this.#stats();
	}

	/**
	 * Sorts new keys in and rewrites the short prefixes' rows that changed (what the timer after a
	 * write does; callable so a test or an operator need not wait for it).
	 */
	async settle(shard: number): Promise<{ rows: number; written: number }> {
		this.#at(shard);
		await this.#load();
		clearTimeout(this.#settleTimer);
		return this.#settle();
	}

	#stats(): ShardStats {
		return { homeTerms: this.#home, keys: this.#index.keyCount };
	}

	/** In a write's transaction: the prefix rows no longer match the terms until the next settle. */
	#stale(): void {
		if (!this.#complete) return;
		markPrefixes(this.ctx.storage.sql, false);
		this.#complete = false;
	}

	#scheduleSettle(): void {
		clearTimeout(this.#settleTimer);
		this.#settleTimer = setTimeout(() => void this.#settle(), SETTLE_AFTER_MS);
	}

	#settle(): { rows: number; written: number } {
		this.#index.warm();
		const sql = this.ctx.storage.sql;
		const stored = this.#rows ?? readPrefixRows(sql);
		const next = new Map<string, string>();
		for (const prefix of this.#index.shortPrefixes(STORED_PREFIX_MAX)) {
			if (/[\ud800-\udbff]$/.test(prefix)) continue;
			next.set(prefix, prefixRowText(this.#index.best(prefix)));
		}
		const changed = [...next].filter(([prefix, text]) => stored.get(prefix) !== text);
		const gone = [...stored.keys()].filter((prefix) => !next.has(prefix));
		this.ctx.storage.transactionSync(() => writePrefixRows(sql, changed, gone));
		this.#rows = next;
		this.#complete = true;
		return { rows: next.size, written: changed.length + gone.length };
	}

	#load(): Promise<void> | null {
		if (this.#loadDue) {
			this.#loadDue = false;
			this.#loading = this.#loadInPages();
		}
		return this.#loading;
	}

	/** Loads every term in pages of LOAD_PAGE, yielding between pages so stored-prefix reads are answered meanwhile. */
	async #loadInPages(): Promise<void> {
		try {
			let after = "";
			for (;;) {
				await new Promise((resolve) => setTimeout(resolve, 0));
				const page = readTermsPage(this.ctx.storage.sql, after, LOAD_PAGE);
				for (const term of page) this.#put(term);
				const last = page.at(-1);
				if (!last || page.length < LOAD_PAGE) break;
				after = last.norm;
			}
		} catch (error) {
			// A page failed: start over in one read, so memory never holds part of the terms.
			log.warn("autocomplete shard load failed; reloading at once", { error: errorText(error) });
			this.#index.clear();
			this.#home = 0;
			for (const term of readTerms(this.ctx.storage.sql)) this.#put(term);
		} finally {
			this.#loading = null;
		}
		this.#index.warm();
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
