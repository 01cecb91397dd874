import type { Term } from "./domain";

/**
 * The SQLite storage of one AutocompleteShard object (its `ctx.storage.sql`): one row per term that
 * has a word key in this shard, keyed by its normalized text, and the shard's number. Statements
 * keep inside Cloudflare's SQL limits (≤ 100 bound parameters, ≤ 100 KB of statement text): a bulk
 * upsert is one statement per chunk of rows, the rows passed as one JSON parameter to json_each.
 */

type TermRow = { norm: string; text: string; weight: number; popularity: number };

/** Rows per upsert statement: a chunk's JSON stays under 1 MB, half the 2 MB value cap, even for 100-character non-ASCII terms. */
const UPSERT_CHUNK = 1000;

export function createShardTables(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS terms (norm TEXT PRIMARY KEY, text TEXT NOT NULL, weight REAL NOT NULL,
			popularity INTEGER NOT NULL DEFAULT 0)`,
	);
	sql.exec("CREATE TABLE IF NOT EXISTS shard_meta (id INTEGER PRIMARY KEY CHECK (id = 1), shard INTEGER NOT NULL)");
}

/** The shard number this object was first written as, or null for a new object. */
export function readShardNumber(sql: SqlStorage): number | null {
	const row = sql.exec<{ shard: number }>("SELECT shard FROM shard_meta WHERE id = 1").toArray()[0];
	return row ? row.shard : null;
}

export function writeShardNumber(sql: SqlStorage, shard: number): void {
	sql.exec("INSERT INTO shard_meta (id, shard) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", shard);
}

export function readTerms(sql: SqlStorage): Term[] {
	return sql.exec<TermRow>("SELECT norm, text, weight, popularity FROM terms").toArray();
}

/** Adds terms or replaces their text and weight; popularity earned from selections is kept. */
export function upsertTerms(sql: SqlStorage, terms: readonly Pick<Term, "norm" | "text" | "weight">[]): void {
	for (let i = 0; i < terms.length; i += UPSERT_CHUNK) {
		const chunk = terms.slice(i, i + UPSERT_CHUNK).map((t) => [t.norm, t.text, t.weight]);
		sql.exec(
			`INSERT INTO terms (norm, text, weight)
			 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)
			 WHERE true
			 ON CONFLICT (norm) DO UPDATE SET text = excluded.text, weight = excluded.weight`,
			JSON.stringify(chunk),
		);
	}
}

export function deleteTerm(sql: SqlStorage, norm: string): void {
	sql.exec("DELETE FROM terms WHERE norm = ?", norm);
}

export function deleteAllTerms(sql: SqlStorage): void {
	sql.exec("DELETE FROM terms");
}

export function bumpPopularity(sql: SqlStorage, norm: string): void {
	sql.exec("UPDATE terms SET popularity = popularity + 1 WHERE norm = ?", norm);
}
