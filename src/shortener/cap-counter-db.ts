/** The SQL of a LinkCapCounter object's own SQLite storage: one row, the count of grants. */

export function createCounterTable(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS grants (id INTEGER PRIMARY KEY CHECK (id = 1), granted INTEGER NOT NULL)`);
}

/** The count of redirects granted, or null before the counter was seeded. */
export function readGranted(sql: SqlStorage): number | null {
	const row = sql.exec<{ granted: number }>(`SELECT granted FROM grants WHERE id = 1`).toArray()[0];
	return row ? row.granted : null;
}

export function saveGranted(sql: SqlStorage, granted: number): void {
	sql.exec(
		`INSERT INTO grants (id, granted) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET granted = excluded.granted`,
		granted,
	);
}
