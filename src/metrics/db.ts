import { deleteOldestRows } from "../platform/sql-db";
import type { SqlValue } from "../platform/sql-db";
import { MAX_BOUND_PARAMETERS, multiRowInsert } from "../platform/sql-db";
import type { MetricsMessage } from "./domain";
import type { RollupRow } from "./rollup";

/** Series, raw samples and rollups: the only SQL of metrics ingest, storage and retention. */

export type NewSeries = { seriesId: string; name: string; labels: string; type: string };

export async function countSeries(db: D1Database, tenantId: string): Promise<number> {
	const row = await db
		.prepare("SELECT COUNT(*) AS n FROM metric_series WHERE tenant_id = ?")
		.bind(tenantId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

/** Which of `ids` the tenant already has (one statement per 99 ids). */
export async function existingSeries(db: D1Database, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
	const found = new Set<string>();
	const per = MAX_BOUND_PARAMETERS - 1;
	const statements = [];
	for (let i = 0; i < ids.length; i += per) {
		const slice = ids.slice(i, i + per);
		statements.push(
			db
				.prepare(
					`SELECT series_id FROM metric_series WHERE tenant_id = ? AND series_id IN (${slice.map(() => "?").join(", ")})`,
				)
				.bind(tenantId, ...slice),
		);
	}
	if (statements.length === 0) return found;
	for (const result of await db.batch<{ series_id: string }>(statements))
		for (const r of result.results) found.add(r.series_id);
	return found;
}

export async function insertSeries(
	db: D1Database,
	tenantId: string,
	series: readonly NewSeries[],
	now: number,
): Promise<void> {
	const rows: SqlValue[][] = series.map((s) => [tenantId, s.seriesId, s.name, s.labels, s.type, now]);
	const statements = multiRowInsert(
		"metric_series",
		["tenant_id", "series_id", "name", "labels", "type", "created_at"],
		rows,
		"ON CONFLICT (tenant_id, series_id) DO NOTHING",
	);
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

const ROLLUP_COLUMNS = [
	"tenant_id",
	"series_id",
	"resolution_ms",
	"bucket_start",
	"min",
	"max",
	"sum",
	"count",
	"last",
	"last_ts",
	"buckets",
];
/** How a rollup row already stored absorbs a message's: the same merge as `mergeRollups`. */
const ROLLUP_MERGE = `ON CONFLICT (tenant_id, series_id, resolution_ms, bucket_start) DO UPDATE SET
 min = MIN(metric_rollups.min, excluded.min), max = MAX(metric_rollups.max, excluded.max),
 sum = metric_rollups.sum + excluded.sum, count = metric_rollups.count + excluded.count,
 last = CASE WHEN excluded.last_ts >= metric_rollups.last_ts THEN excluded.last ELSE metric_rollups.last END,
 last_ts = MAX(metric_rollups.last_ts, excluded.last_ts),
 buckets = CASE WHEN excluded.buckets IS NULL THEN metric_rollups.buckets WHEN metric_rollups.buckets IS NULL THEN excluded.buckets
  ELSE (SELECT json_group_object(key, total) FROM (SELECT key, SUM(value) AS total FROM
   (SELECT key, value FROM json_each(metric_rollups.buckets) UNION ALL SELECT key, value FROM json_each(excluded.buckets)) GROUP BY key)) END`;

/**
 * One message in one transaction: its raw samples (a redelivery inserts nothing: the key is the
 * producer's message id and the sample's index), then its rollups, applied only while its samples
 * are still unrolled, then the samples marked rolled. A redelivered message therefore adds
 * nothing twice, even if two deliveries race (D1 serialises the transactions).
 */
export async function writeMessage(
	db: D1Database,
	message: MetricsMessage,
	rollups: readonly RollupRow[],
): Promise<void> {
	const raw = multiRowInsert(
		"metric_samples",
		["message_id", "sample_index", "tenant_id", "series_id", "ts", "value", "buckets"],
		message.samples.map((s, i) => [
			message.id,
			i,
			message.tenant_id,
			s.series_id,
			s.ts,
			s.value,
			s.buckets ? JSON.stringify(s.buckets) : null,
		]),
		"ON CONFLICT (message_id, sample_index) DO NOTHING",
	);
	const statements = raw.map((s) => db.prepare(s.sql).bind(...s.params));
	const perStatement = Math.floor((MAX_BOUND_PARAMETERS - 1) / ROLLUP_COLUMNS.length);
	for (let i = 0; i < rollups.length; i += perStatement) {
		const slice = rollups.slice(i, i + perStatement);
		const values = slice.map(() => `(${ROLLUP_COLUMNS.map(() => "?").join(", ")})`).join(", ");
		const params = slice.flatMap((r) => [
			message.tenant_id,
			r.seriesId,
			r.resolutionMs,
			r.bucketStart,
			r.min,
			r.max,
			r.sum,
			r.count,
			r.last,
			r.lastTs,
			r.buckets ? JSON.stringify(r.buckets) : null,
		]);
		statements.push(
			db
				.prepare(
					`INSERT INTO metric_rollups (${ROLLUP_COLUMNS.join(", ")}) SELECT * FROM (VALUES ${values})
 WHERE EXISTS (SELECT 1 FROM metric_samples WHERE message_id = ? AND rolled = 0) ${ROLLUP_MERGE}`,
				)
				.bind(...params, message.id),
		);
	}
	statements.push(
		db.prepare("UPDATE metric_samples SET rolled = 1 WHERE message_id = ? AND rolled = 0").bind(message.id),
	);
	await db.batch(statements);
}

export async function insertMetricDeadLetters(
	db: D1Database,
	queue: string,
	letters: readonly { id: string; messageId: string; body: string; attempts: number }[],
	now: number,
): Promise<void> {
	const rows: SqlValue[][] = letters.map((l) => [l.id, queue, l.messageId, l.body, l.attempts, now]);
	const statements = multiRowInsert(
		"metric_dead_letters",
		["id", "queue", "message_id", "body", "attempts", "created_at"],
		rows,
		"ON CONFLICT (id) DO NOTHING",
	);
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

/** The oldest raw samples taken before `cutoff`, at most `limit`. */
export async function purgeRawSamples(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "metric_samples", "ts", cutoff, limit);
}

/** The oldest rollups of one resolution whose window started before `cutoff`, at most `limit`. */
export async function purgeRollups(
	db: D1Database,
	resolutionMs: number,
	cutoff: number,
	limit: number,
): Promise<number> {
	const result = await db
		.prepare(
			`DELETE FROM metric_rollups WHERE rowid IN (SELECT rowid FROM metric_rollups
 WHERE resolution_ms = ? AND bucket_start < ? ORDER BY bucket_start LIMIT ?)`,
		)
		.bind(resolutionMs, cutoff, limit)
		.run();
	return result.meta.changes;
}

export async function purgeMetricDeadLetters(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "metric_dead_letters", "created_at", cutoff, limit);
}
