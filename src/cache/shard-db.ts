import type { AccessBatch } from "./access-log";
import { z } from "zod";
import type { EvictionCandidate, EvictionPolicy, ShardStats } from "./domain";
import { EVICTION_POLICIES } from "./domain";

/**
 * The SQLite storage of one CacheShard object (one tenant's namespace, one shard): entries with
 * their size, expiry, last access and hit count (indexed in each eviction order), their tags, and
 * the shard's counters and namespace settings.
 */

export type StoredEntry = {
	key: string;
	value: string;
	bytes: number;
	expires_at: number;
	hits: number;
	load_ms: number;
};
export type LiveItem = { key: string; hit: true; value: string; expiresAt: number } | { key: string; hit: false };
export type ShardSettings = { maxBytes: number | null; eviction: EvictionPolicy; l1: boolean };
export type NewEntry = {
	key: string;
	value: string;
	bytes: number;
	expiresAt: number;
	tags: readonly string[];
	loadMs: number;
};

type CandidateRow = { key: string; bytes: number; last_access: number; hits: number; expires_at: number };
type MetaRow = {
	hits: number;
	misses: number;
	evictions: number;
	max_bytes: number | null;
	eviction: string;
	l1: number;
};

const policySchema = z.enum(EVICTION_POLICIES);
const ENTRY_COLUMNS = "key, value, bytes, expires_at, hits, load_ms";

export function createShardTables(sql: SqlStorage): void {
	sql.exec(
		`CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, bytes INTEGER NOT NULL,
			expires_at INTEGER NOT NULL, last_access INTEGER NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
			tags TEXT NOT NULL DEFAULT '[]', load_ms INTEGER NOT NULL DEFAULT 0)`,
	);
	sql.exec("CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at)");
	sql.exec("CREATE INDEX IF NOT EXISTS entries_lru ON entries (last_access)");
	sql.exec("CREATE INDEX IF NOT EXISTS entries_lfu ON entries (hits, last_access)");
	sql.exec(`CREATE TABLE IF NOT EXISTS entry_tags (tag TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tag, key))`);
	sql.exec("CREATE INDEX IF NOT EXISTS entry_tags_key ON entry_tags (key)");
	// However an entry leaves (delete, invalidation, eviction, expiry), its tag rows go with it.
	sql.exec(
		`CREATE TRIGGER IF NOT EXISTS entries_drop_tags AFTER DELETE ON entries
			BEGIN DELETE FROM entry_tags WHERE key = old.key; END`,
	);
	sql.exec(
		`CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), hits INTEGER NOT NULL DEFAULT 0,
			misses INTEGER NOT NULL DEFAULT 0, evictions INTEGER NOT NULL DEFAULT 0, max_bytes INTEGER,
			eviction TEXT NOT NULL DEFAULT 'lru', l1 INTEGER NOT NULL DEFAULT 1)`,
	);
	sql.exec("INSERT OR IGNORE INTO meta (id) VALUES (1)");
}

export function readSettings(sql: SqlStorage): ShardSettings {
	const row = sql.exec<MetaRow>("SELECT * FROM meta WHERE id = 1").toArray()[0];
	return {
		maxBytes: row?.max_bytes ?? null,
		eviction: policySchema.catch("lru").parse(row?.eviction),
		l1: row?.l1 === 1,
	};
}

export function saveSettings(sql: SqlStorage, settings: ShardSettings): void {
	sql.exec(
		"UPDATE meta SET max_bytes = ?, eviction = ?, l1 = ? WHERE id = 1",
		settings.maxBytes,
		settings.eviction,
		settings.l1 ? 1 : 0,
	);
}

export function findEntry(sql: SqlStorage, key: string): StoredEntry | null {
	return sql.exec<StoredEntry>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE key = ?`, key).toArray()[0] ?? null;
}

/** Each of `keys` in the order asked: its live entry's value and expiry, or a miss; one statement. */
export function findLiveEntries(sql: SqlStorage, keys: readonly string[], now: number): LiveItem[] {
	const live = new Map<string, StoredEntry>();
	const rows = sql.exec<StoredEntry>(
		`SELECT ${ENTRY_COLUMNS} FROM entries WHERE key IN (SELECT value FROM json_each(?)) AND expires_at > ?`,
		JSON.stringify(keys),
		now,
	);
	for (const row of rows) live.set(row.key, row);
	return keys.map((key): LiveItem => {
		const entry = live.get(key);
		return entry ? { key, hit: true, value: entry.value, expiresAt: entry.expires_at } : { key, hit: false };
	});
}

/** Counts a hit on a live entry: its access time and frequency move, and the shard's hit counter. */
/** Keys per statement of a flush (one JSON parameter each). */
const TOUCH_CHUNK = 500;

/**
 * Writes a batch of reads (src/cache/access-log.ts): each key's last access and added hits, in one
 * json_each statement per TOUCH_CHUNK keys (keys gone since are skipped), and the shard's counters.
 */
export function applyAccesses(sql: SqlStorage, batch: AccessBatch): void {
	for (let i = 0; i < batch.touches.length; i += TOUCH_CHUNK) {
		sql.exec(
			`UPDATE entries SET last_access = max(entries.last_access, d.at), hits = entries.hits + d.n
			 FROM (SELECT value ->> 0 AS key, value ->> 1 AS at, value ->> 2 AS n FROM json_each(?)) AS d
			 WHERE entries.key = d.key`,
			JSON.stringify(batch.touches.slice(i, i + TOUCH_CHUNK)),
		);
	}
	if (batch.hits > 0 || batch.misses > 0)
		sql.exec("UPDATE meta SET hits = hits + ?, misses = misses + ? WHERE id = 1", batch.hits, batch.misses);
}

export function recordEvictions(sql: SqlStorage, count: number): void {
	if (count > 0) sql.exec("UPDATE meta SET evictions = evictions + ? WHERE id = 1", count);
}

/** Inserts or replaces an entry (a replaced entry starts again at 0 hits) with its tags. */
export function storeEntry(sql: SqlStorage, entry: NewEntry, now: number): void {
	sql.exec("DELETE FROM entries WHERE key = ?", entry.key);
	sql.exec(
		`INSERT INTO entries (key, value, bytes, expires_at, last_access, hits, tags, load_ms) VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
		entry.key,
		entry.value,
		entry.bytes,
		entry.expiresAt,
		now,
		JSON.stringify(entry.tags),
		entry.loadMs,
	);
	for (const tag of new Set(entry.tags)) sql.exec("INSERT INTO entry_tags (tag, key) VALUES (?, ?)", tag, entry.key);
}

export function deleteEntry(sql: SqlStorage, key: string): boolean {
	return sql.exec("DELETE FROM entries WHERE key = ?", key).rowsWritten > 0;
}

/** Removes every entry whose key starts with `prefix`; returns how many. */
export function deletePrefix(sql: SqlStorage, prefix: string): number {
	const before = countEntries(sql);
	sql.exec("DELETE FROM entries WHERE substr(key, 1, length(?1)) = ?1", prefix);
	return before - countEntries(sql);
}

/** Removes every entry carrying one of `tags`; returns how many. */
export function deleteTagged(sql: SqlStorage, tags: readonly string[]): number {
	const before = countEntries(sql);
	for (const tag of tags) sql.exec("DELETE FROM entries WHERE key IN (SELECT key FROM entry_tags WHERE tag = ?)", tag);
	return before - countEntries(sql);
}

/** Removes up to `limit` entries expired by `now`; returns how many. */
export function deleteExpired(sql: SqlStorage, now: number, limit: number): number {
	const keys = sql
		.exec<{ key: string }>("SELECT key FROM entries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", now, limit)
		.toArray();
	for (const { key } of keys) sql.exec("DELETE FROM entries WHERE key = ?", key);
	return keys.length;
}

export function nextExpiry(sql: SqlStorage): number | null {
	return sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM entries").one().at;
}

export function usedBytes(sql: SqlStorage): number {
	return sql.exec<{ used: number | null }>("SELECT SUM(bytes) AS used FROM entries").one().used ?? 0;
}

/** The next entries to consider for eviction, from the index of each order (expired ones first). */
export function evictionCandidates(
	sql: SqlStorage,
	policy: EvictionPolicy,
	now: number,
	limit: number,
): EvictionCandidate[] {
	const columns = "key, bytes, last_access, hits, expires_at";
	const expired = sql
		.exec<CandidateRow>(`SELECT ${columns} FROM entries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`, now, limit)
		.toArray();
	const order = policy === "lfu" ? "hits, last_access" : "last_access";
	const live = sql.exec<CandidateRow>(`SELECT ${columns} FROM entries ORDER BY ${order} LIMIT ?`, limit).toArray();
	const seen = new Set<string>();
	return [...expired, ...live]
		.filter((row) => !seen.has(row.key) && seen.add(row.key))
		.map((row) => ({
			key: row.key,
			bytes: row.bytes,
			lastAccess: row.last_access,
			hits: row.hits,
			expiresAt: row.expires_at,
		}));
}

export function shardStats(sql: SqlStorage, now: number): ShardStats {
	const live = sql
		.exec<{ keys: number; used: number | null }>(
			"SELECT COUNT(*) AS keys, SUM(bytes) AS used FROM entries WHERE expires_at > ?",
			now,
		)
		.one();
	const meta = sql.exec<MetaRow>("SELECT * FROM meta WHERE id = 1").toArray()[0];
	return {
		totalKeys: live.keys,
		memoryUsed: live.used ?? 0,
		hits: meta?.hits ?? 0,
		misses: meta?.misses ?? 0,
		evictions: meta?.evictions ?? 0,
	};
}

function countEntries(sql: SqlStorage): number {
	return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries").one().n;
}
