import type { Term } from "./domain";

/**
 * The SQLite storage of one AutocompleteShard object (its `ctx.storage.sql`): one row per term,
 * keyed by its normalized text. Object storage has no per-invocation query limit like D1's, so a
 * 10,000-term import is 10,000 upserts in one transaction.
 */

type TermRow = { norm: string; text: string; weight: number; popularity: number };

export function createShardTables(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS terms (norm TEXT PRIMARY KEY, text TEXT NOT NULL, weight REAL NOT NULL,
			popularity INTEGER NOT NULL DEFAULT 0)`,
	);
}

export function readTerms(sql: SqlStorage): Term[] {
	return sql.exec<TermRow>("SELECT norm, text, weight, popularity FROM terms").toArray();
}

/** Adds terms or replaces their text and weight; popularity earned from selections is kept. */
export function upsertTerms(sql: SqlStorage, terms: readonly Pick<Term, "norm" | "text" | "weight">[]): void {
	for (const t of terms) {
		sql.exec(
			`INSERT INTO terms (norm, text, weight) VALUES (?, ?, ?)
			 ON CONFLICT (norm) DO UPDATE SET text = excluded.text, weight = excluded.weight`,
			t.norm,
			t.text,
			t.weight,
		);
	}
}

export function deleteTerm(sql: SqlStorage, norm: string): void {
	sql.exec("DELETE FROM terms WHERE norm = ?", norm);
}

export function bumpPopularity(sql: SqlStorage, norm: string): void {
	sql.exec("UPDATE terms SET popularity = popularity + 1 WHERE norm = ?", norm);
}
