import type { SqlValue } from "../platform/sql-db";
import type { TierName } from "./rollup";
import { TIERS } from "./rollup";
import type { SeriesStepRow, StepRow } from "./query-domain";

/** Reads for metric queries: per-step aggregates over the series a name and label matchers select. */

export type SeriesSelector = { tenantId: string; name: string; matchers: Readonly<Record<string, string>> };
export type Window = { tier: TierName; fromMs: number; toMs: number; stepMs: number };

/** Per-tier source: the raw table's value stands in for a rollup's min, max, sum and count of 1. */
const SOURCES: Record<TierName, { table: string; time: string; min: string; max: string; sum: string; count: string }> =
	{
		raw: { table: "metric_samples", time: "ts", min: "value", max: "value", sum: "value", count: "1" },
		"1m": { table: "metric_rollups", time: "bucket_start", min: "min", max: "max", sum: "sum", count: "count" },
		"1h": { table: "metric_rollups", time: "bucket_start", min: "min", max: "max", sum: "sum", count: "count" },
	};

// Step indexes are CAST: D1 may bind a JS number as REAL, which would make `/` a real division.

export async function stepAggregates(db: D1Database, sel: SeriesSelector, w: Window): Promise<StepRow[]> {
	const s = SOURCES[w.tier];
	const { where, params } = filter(sel, w);
	const sql = `SELECT CAST((r.${s.time} - ?) / ? AS INTEGER) AS i, MIN(r.${s.min}) AS min, MAX(r.${s.max}) AS max,
 SUM(r.${s.sum}) AS sum, SUM(${s.count}) AS count FROM ${s.table} r WHERE ${where} GROUP BY i`;
	const result = await db
		.prepare(sql)
		.bind(w.fromMs, w.stepMs, ...params)
		.all<StepRow>();
	return result.results;
}

/** Per series per step (for rates), at most `limit` rows. */
export async function seriesStepAggregates(
	db: D1Database,
	sel: SeriesSelector,
	w: Window,
	limit: number,
): Promise<SeriesStepRow[]> {
	const s = SOURCES[w.tier];
	const { where, params } = filter(sel, w);
	const sql = `SELECT r.series_id, CAST((r.${s.time} - ?) / ? AS INTEGER) AS i, MIN(r.${s.min}) AS min, MAX(r.${s.max}) AS max,
 SUM(r.${s.sum}) AS sum, SUM(${s.count}) AS count FROM ${s.table} r WHERE ${where} GROUP BY r.series_id, i LIMIT ?`;
	const result = await db
		.prepare(sql)
		.bind(w.fromMs, w.stepMs, ...params, limit)
		.all<SeriesStepRow>();
	return result.results;
}

/** Histogram buckets added by le per step. */
export async function stepBuckets(
	db: D1Database,
	sel: SeriesSelector,
	w: Window,
): Promise<{ i: number; le: string; count: number }[]> {
	const s = SOURCES[w.tier];
	const { where, params } = filter(sel, w);
	const sql = `SELECT CAST((r.${s.time} - ?) / ? AS INTEGER) AS i, j.key AS le, SUM(j.value) AS count
 FROM ${s.table} r, json_each(r.buckets) j WHERE r.buckets IS NOT NULL AND ${where} GROUP BY i, le`;
	const result = await db
		.prepare(sql)
		.bind(w.fromMs, w.stepMs, ...params)
		.all<{ i: number; le: string; count: number }>();
	return result.results;
}

/** Label names are validated ([a-zA-Z_][a-zA-Z0-9_]*), so a JSON path quoting them is safe; still bound. */
function filter(sel: SeriesSelector, w: Window): { where: string; params: SqlValue[] } {
	const s = SOURCES[w.tier];
	const matchers = Object.entries(sel.matchers);
	const labelSql = matchers.map(() => " AND json_extract(labels, ?) = ?").join("");
	const resolution = w.tier === "raw" ? "" : " AND r.resolution_ms = ?";
	return {
		where: `r.tenant_id = ? AND r.${s.time} >= ? AND r.${s.time} < ?${resolution}
 AND r.series_id IN (SELECT series_id FROM metric_series WHERE tenant_id = ? AND name = ?${labelSql})`,
		params: [
			sel.tenantId,
			w.fromMs,
			w.toMs,
			...(w.tier === "raw" ? [] : [TIERS[w.tier]]),
			sel.tenantId,
			sel.name,
			...matchers.flatMap(([k, v]) => [`$."${k}"`, v]),
		],
	};
}
