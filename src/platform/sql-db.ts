import { utf8Length } from "./queue-limits";

/** D1 binds at most 100 parameters per statement (local SQLite allows far more, so we count). */
export const MAX_BOUND_PARAMETERS = 100;

export type SqlValue = string | number | null;
export type SqlStatement = { sql: string; params: SqlValue[] };

/**
 * Multi-row `INSERT INTO table (columns) VALUES (...), (...) <tail>` statements, as many rows
 * per statement as fit in 100 bound parameters. `tail` is fixed SQL (an ON CONFLICT clause),
 * never input. Column names are code constants.
 */
export function multiRowInsert(
	table: string,
	columns: readonly string[],
	rows: readonly SqlValue[][],
	tail: string,
): SqlStatement[] {
	const perRow = columns.length;
	if (perRow === 0 || perRow > MAX_BOUND_PARAMETERS)
		throw new Error(`cannot insert ${perRow} columns in one statement`);
	const rowsPerStatement = Math.floor(MAX_BOUND_PARAMETERS / perRow);
	const placeholder = `(${columns.map(() => "?").join(", ")})`;
	const statements: SqlStatement[] = [];
	for (let i = 0; i < rows.length; i += rowsPerStatement) {
		const slice = rows.slice(i, i + rowsPerStatement);
		const params: SqlValue[] = [];
		for (const row of slice) {
			if (row.length !== perRow) throw new Error(`row has ${row.length} values for ${perRow} columns`);
			params.push(...row);
		}
		const values = slice.map(() => placeholder).join(", ");
		statements.push({ sql: `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${values} ${tail}`.trim(), params });
	}
	return statements;
}

/** Most UTF-8 bytes of JSON rows in one bound parameter (D1 allows 2,000,000 bytes per value). */
export const MAX_JSON_PARAM_BYTES = 900_000;

/**
 * Groups JSON-serialised rows into chunks of at most `maxBytes` of UTF-8 (counted, not estimated
 * from characters: a character can be 3 bytes, so 900,000 characters could pass D1's 2 MB). A row
 * larger than that goes alone: it could not be written any other way either.
 */
export function chunkJsonRows(rows: readonly unknown[], maxBytes = MAX_JSON_PARAM_BYTES): string[] {
	const chunks: string[] = [];
	let current: string[] = [];
	let size = 2;
	for (const row of rows) {
		const text = JSON.stringify(row);
		const bytes = utf8Length(text);
		if (current.length > 0 && size + bytes + 1 > maxBytes) {
			chunks.push(`[${current.join(",")}]`);
			current = [];
			size = 2;
		}
		current.push(text);
		size += bytes + 1;
	}
	if (current.length > 0) chunks.push(`[${current.join(",")}]`);
	return chunks;
}

/**
 * `INSERT INTO table (columns) SELECT … FROM json_each(?) WHERE true <tail>`: the rows travel as
 * JSON arrays in ONE bound parameter per statement (chunked by chunkJsonRows), so a thousand rows
 * are one statement instead of one per 100 parameters. A JSON number lands as INTEGER or REAL, a
 * string as TEXT, null as NULL, as the same values bound one by one would. `WHERE true` keeps
 * SQLite's parser from reading an upsert `tail`'s ON as a join constraint. Table, columns and tail
 * are code constants, never input.
 */
export function jsonRowsInsert(
	table: string,
	columns: readonly string[],
	rows: readonly SqlValue[][],
	tail: string,
	maxBytes = MAX_JSON_PARAM_BYTES,
): SqlStatement[] {
	for (const row of rows)
		if (row.length !== columns.length) throw new Error(`row has ${row.length} values for ${columns.length} columns`);
	const select = columns.map((_, i) => `value ->> ${i}`).join(", ");
	const sql =
		`INSERT INTO ${table} (${columns.join(", ")}) SELECT ${select} FROM json_each(?) WHERE true ${tail}`.trim();
	return chunkJsonRows(rows, maxBytes).map((json) => ({ sql, params: [json] }));
}

/**
 * Deletes at most `limit` rows of `table` whose `column` is older than `cutoff`, oldest first, and
 * returns how many went (retention in bounded batches). Table and column are code constants.
 */
export async function deleteOldestRows(
	db: D1Database,
	table: string,
	column: string,
	cutoff: number,
	limit: number,
): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? ORDER BY ${column} LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

const MAX_JSON_BYTES = 80_000;

/**
 * Rows as JSON arrays of < 80 KB each, for `INSERT … SELECT … FROM json_each(?)`: one bound
 * parameter per statement whatever the row count, under D1's 100 KB statement limit (a single
 * larger row goes alone).
 */
export function jsonChunks(rows: readonly unknown[]): string[] {
	return chunkJsonRows(rows, MAX_JSON_BYTES);
}
