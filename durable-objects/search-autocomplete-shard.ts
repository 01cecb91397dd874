import { DurableObject } from "cloudflare:workers";
import type { Suggestion } from "../src/search/domain";
import { SEARCH_LIMITS, normalize } from "../src/search/domain";
import { PrefixIndex } from "../src/search/prefix-index";
import { bumpPopularity, createShardTables, deleteTerm, readTerms, upsertTerms } from "../src/search/shard-db";

export type UpsertResult =
	{ ok: true; upserted: number; total: number } | { ok: false; code: "index_full"; total: number };
export type SelectResult = { ok: true; popularity: number } | { ok: false; code: "unknown_term" };

/**
 * One autocomplete index shard (`<tenant>:<index>`): terms in SQLite, and all of them in memory as
 * a PrefixIndex rebuilt from SQLite when the object wakes. Writes go to SQLite and memory in the
 * same synchronous turn, so a suggestion never shows a term the storage does not have.
 */
export class AutocompleteShard extends DurableObject<Env> {
	readonly #index = new PrefixIndex();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createShardTables(ctx.storage.sql);
			for (const term of readTerms(ctx.storage.sql)) this.#index.put(term);
		});
	}

	/** Adds terms or replaces their weight (by normalized text); all or none when over the index cap. */
	upsert(terms: { text: string; weight: number }[]): UpsertResult {
		const byNorm = new Map<string, { norm: string; text: string; weight: number }>();
		for (const t of terms) {
			const norm = normalize(t.text);
			if (norm !== "") byNorm.set(norm, { norm, text: t.text.trim(), weight: t.weight });
		}
		const added = [...byNorm.keys()].filter((norm) => !this.#index.has(norm)).length;
		if (this.#index.size + added > SEARCH_LIMITS.maxTermsPerIndex)
			return { ok: false, code: "index_full", total: this.#index.size };
		const rows = [...byNorm.values()];
		this.ctx.storage.transactionSync(() => upsertTerms(this.ctx.storage.sql, rows));
		for (const row of rows) this.#index.put({ ...row, popularity: this.#index.get(row.norm)?.popularity ?? 0 });
		return { ok: true, upserted: rows.length, total: this.#index.size };
	}

	suggest(query: string, limit: number): Suggestion[] {
		return this.#index.suggest(query, limit);
	}

	/** Removes a term; false when the index has none by that (normalized) text. */
	remove(text: string): boolean {
		const norm = normalize(text);
		if (!this.#index.has(norm)) return false;
		deleteTerm(this.ctx.storage.sql, norm);
		this.#index.delete(norm);
		return true;
	}

	/** A suggestion the user picked: one popularity point, which ranks it higher from now on. */
	select(text: string): SelectResult {
		const norm = normalize(text);
		const term = this.#index.get(norm);
		if (!term) return { ok: false, code: "unknown_term" };
		bumpPopularity(this.ctx.storage.sql, norm);
		const popularity = term.popularity + 1;
		this.#index.put({ ...term, popularity });
		return { ok: true, popularity };
	}

	count(): number {
		return this.#index.size;
	}
}
