import type { Sample } from "./domain";
import { MAX_SERIES_PER_SCOPE, MINUTE_MS, SERIES_WINDOW_MINUTES } from "./domain";
import type { SqlValue } from "../platform/sql-db";
import { deleteOldestRows, multiRowInsert } from "../platform/sql-db";

/** The dashboard's reads: its own per-minute samples, and per-minute counts of what other tables record. */

export type MinuteCount = { minute: number; status: string; n: number };
export type StatusTypeCount = { status: string; type: string; n: number };

const MAX_SAMPLE_ROWS = SERIES_WINDOW_MINUTES * MAX_SERIES_PER_SCOPE;
/** Statuses of payments and finished jobs: a handful per minute at most. */
const MAX_MINUTE_ROWS = SERIES_WINDOW_MINUTES * 8;
/** The surge histogram's reach: 12 hours of minutes. */
export const SURGE_WINDOW_MINUTES = 720;

/** This minute's readings of a scope; a later reading of the same minute replaces the earlier. */
export async function recordSamples(db: D1Database, scope: string, samples: readonly Sample[]): Promise<void> {
	const rows: SqlValue[][] = samples.map((s) => [scope, s.minute, s.series, s.value]);
	const statements = multiRowInsert(
		"dashboard_samples",
		["scope", "minute", "series", "value"],
		rows,
		"ON CONFLICT (scope, minute, series) DO UPDATE SET value = excluded.value",
	);
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

export async function readSamples(db: D1Database, scope: string, since: number): Promise<Sample[]> {
	const { results } = await db
		.prepare(
			"SELECT minute, series, value FROM dashboard_samples WHERE scope = ? AND minute >= ? ORDER BY minute LIMIT ?",
		)
		.bind(scope, since, MAX_SAMPLE_ROWS)
		.all<Sample>();
	return results;
}

export function purgeOldSamples(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "dashboard_samples", "minute", cutoff, limit);
}

/** Payments created per minute and status. */
export async function paymentsPerMinute(db: D1Database, tenantId: string, since: number): Promise<MinuteCount[]> {
	const { results } = await db
		.prepare(
			`SELECT (created_at / ${MINUTE_MS}) * ${MINUTE_MS} AS minute, status, COUNT(*) AS n FROM payments
			 WHERE tenant_id = ? AND created_at >= ? GROUP BY minute, status ORDER BY minute LIMIT ?`,
		)
		.bind(tenantId, since, MAX_MINUTE_ROWS)
		.all<MinuteCount>();
	return results;
}

/** Jobs finished (completed or dead) per minute. */
export async function jobsFinishedPerMinute(db: D1Database, tenantId: string, since: number): Promise<MinuteCount[]> {
	const { results } = await db
		.prepare(
			`SELECT (completed_at / ${MINUTE_MS}) * ${MINUTE_MS} AS minute, status, COUNT(*) AS n FROM jobs
			 WHERE tenant_id = ? AND completed_at >= ? AND status IN ('completed', 'dead')
			 GROUP BY minute, status ORDER BY minute LIMIT ?`,
		)
		.bind(tenantId, since, MAX_MINUTE_ROWS)
		.all<MinuteCount>();
	return results;
}

/** A tenant's jobs now, by status and type (types are bounded by what a tenant declares and runs). */
export async function jobsByStatusAndType(db: D1Database, tenantId: string): Promise<StatusTypeCount[]> {
	const { results } = await db
		.prepare("SELECT status, type, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY status, type LIMIT 400")
		.bind(tenantId)
		.all<StatusTypeCount>();
	return results;
}

/** Machine reports received per minute since `since` (the nightly surge). */
export async function reportArrivals(
	db: D1Database,
	tenantId: string,
	since: number,
): Promise<{ minute: number; n: number }[]> {
	const { results } = await db
		.prepare(
			`SELECT (received_at / ${MINUTE_MS}) * ${MINUTE_MS} AS minute, COUNT(*) AS n FROM machine_reports
			 WHERE tenant_id = ? AND received_at >= ? GROUP BY minute ORDER BY minute LIMIT ?`,
		)
		.bind(tenantId, since, SURGE_WINDOW_MINUTES + 1)
		.all<{ minute: number; n: number }>();
	return results;
}

/** Vending machines not revoked, and how many of them reported since `since`. */
export async function deviceReporting(
	db: D1Database,
	tenantId: string,
	since: number,
): Promise<{ total: number; reporting: number }> {
	const row = await db
		.prepare(
			`SELECT COUNT(*) AS total, COUNT(r.device_id) AS reporting FROM devices d
			 LEFT JOIN device_last_report r ON r.tenant_id = d.tenant_id AND r.device_id = d.device_id AND r.reported_at >= ?
			 WHERE d.tenant_id = ? AND d.kind = 'vending' AND d.revoked_at IS NULL`,
		)
		.bind(since, tenantId)
		.first<{ total: number; reporting: number }>();
	return row ?? { total: 0, reporting: 0 };
}
