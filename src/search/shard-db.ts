import { z } from "zod";
import type { Term } from "./domain";

/**
 * The SQLite storage of one AutocompleteShard object (its `ctx.storage.sql`): one row per term that
 * has a word key in this shard, keyed by its normalized text, and the shard's number. Statements
 * keep inside Cloudflare's SQL limits (≤ 100 bound parameters, ≤ 100 KB of statement text): a bulk
 * upsert is one statement per chunk of rows, the rows passed as one JSON parameter to json_each.
 * `prefix_top` holds, per short normalized prefix, its best terms (one row per prefix), so a woken
 * shard answers those prefixes with one indexed read while it loads every term in pages;
 * `prefix_state.complete` says the rows match the terms (cleared in the same transaction as a term
 * write, set again when the rows are rewritten a moment later).
 */

type TermRow = { norm: string; text: string; weight: number; popularity: number };

/** One prefix row's terms: [norm, text, weight, popularity], best first. */
const prefixTerms = z.array(z.tuple([z.string(), z.string(), z.number(), z.number()]));
/** Prefix rows per upsert statement: 20 terms of up to 100 characters each stay far under the value cap. */
const PREFIX_CHUNK = 100;

/** Rows per upsert statement: a chunk's JSON stays under 1 MB, half the 2 MB value cap, even for 100-character non-ASCII terms. */
const UPSERT_CHUNK = 1000;

export function createShardTables(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS terms (norm TEXT PRIMARY KEY, text TEXT NOT NULL, weight REAL NOT NULL,
			popularity INTEGER NOT NULL DEFAULT 0)`,
	);
	sql.exec("CREATE TABLE IF NOT EXISTS shard_meta (id INTEGER PRIMARY KEY CHECK (id = 1), shard INTEGER NOT NULL)");
	sql.exec("CREATE TABLE IF NOT EXISTS prefix_top (prefix TEXT PRIMARY KEY, terms TEXT NOT NULL) WITHOUT ROWID");
	sql.exec(
		"CREATE TABLE IF NOT EXISTS prefix_state (id INTEGER PRIMARY KEY CHECK (id = 1), complete INTEGER NOT NULL)",
	);
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

/** Up to `limit` terms after `after` in normalized-text order (keyset pages over the primary key). */
export function readTermsPage(sql: SqlStorage, after: string, limit: number): Term[] {
	return sql
		.exec<TermRow>(
			"SELECT norm, text, weight, popularity FROM terms WHERE norm > ? ORDER BY norm LIMIT ?",
			after,
			limit,
		)
		.toArray();
}

/** Whether every prefix row matches the terms table. */
export function prefixesComplete(sql: SqlStorage): boolean {
	const row = sql.exec<{ complete: number }>("SELECT complete FROM prefix_state WHERE id = 1").toArray()[0];
	return row?.complete === 1;
}

export function markPrefixes(sql: SqlStorage, complete: boolean): void {
	sql.exec(
		"INSERT INTO prefix_state (id, complete) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET complete = excluded.complete",
		complete ? 1 : 0,
	);
}

/** A short prefix's stored best terms, or null when no row (no key of this shard starts with it). */
export function readPrefixTop(sql: SqlStorage, prefix: string): Term[] | null {
	const row = sql.exec<{ terms: string }>("SELECT terms FROM prefix_top WHERE prefix = ?", prefix).toArray()[0];
	if (!row) return null;
	const parsed = prefixTerms.safeParse(JSON.parse(row.terms));
	if (!parsed.success) return null;
	return parsed.data.map(([norm, text, weight, popularity]) => ({ norm, text, weight, popularity }));
}

/** Every stored prefix row, as the JSON text written (to write only the rows that change). */
export function readPrefixRows(sql: SqlStorage): Map<string, string> {
	const rows = sql.exec<{ prefix: string; terms: string }>("SELECT prefix, terms FROM prefix_top").toArray();
	return new Map(rows.map((r) => [r.prefix, r.terms]));
}

/** The JSON text of a prefix row. */
export function prefixRowText(terms: readonly Term[]): string {
	return JSON.stringify(terms.map((t) => [t.norm, t.text, t.weight, t.popularity]));
}

/** Writes changed prefix rows and deletes gone ones (a chunk per statement), then marks the rows complete. */
export function writePrefixRows(sql: SqlStorage, changed: readonly [string, string][], gone: readonly string[]): void {
	for (let i = 0; i < changed.length; i += PREFIX_CHUNK) {
		sql.exec(
			`INSERT INTO prefix_top (prefix, terms)
			 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
			 ON CONFLICT (prefix) DO UPDATE SET terms = excluded.terms`,
			JSON.stringify(changed.slice(i, i + PREFIX_CHUNK)),
		);
	}
	for (let i = 0; i < gone.length; i += PREFIX_CHUNK) {
		sql.exec(
			"DELETE FROM prefix_top WHERE prefix IN (SELECT value FROM json_each(?))",
			JSON.stringify(gone.slice(i, i + PREFIX_CHUNK)),
		);
	}
	markPrefixes(sql, true);
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
	sql.exec("DELETE FROM prefix_top");
	markPrefixes(sql, true);
}

export function bumpPopularity(sql: SqlStorage, norm: string): void {
	sql.exec("UPDATE terms SET popularity = popularity + 1 WHERE norm = ?", norm);
}
