import type { SqlValue } from "../platform/sql-db";
import { multiRowInsert } from "../platform/sql-db";

/** `enqueued` counts both lanes; `backfillEnqueued` the backfill lane's share of it. */
export type IngestDelta = { received: number; enqueued: number; rejected: number; backfillEnqueued: number };

export type StatsRow = {
	received: number;
	enqueued: number;
	rejected: number;
	processed: number;
	batches: number;
	last_batch_at: number | null;
	last_batch_size: number | null;
	total_batch_ms: number;
	dead_letters: number;
	backfill_enqueued: number;
	backfill_processed: number;
	backfill_dead_letters: number;
};

/** Adds isolate-counted deltas to the per-tenant counters (one upsert per 25 tenants). */
export async function addIngestDeltas(db: D1Database, deltas: ReadonlyMap<string, IngestDelta>): Promise<void> {
	const rows: SqlValue[][] = [...deltas].map(([tenantId, d]) => [
		tenantId,
		d.received,
		d.enqueued,
		d.rejected,
		d.backfillEnqueued,
	]);
	const statements = multiRowInsert(
		"telemetry_stats",
		["tenant_id", "received", "enqueued", "rejected", "backfill_enqueued"],
		rows,
		`ON CONFLICT (tenant_id) DO UPDATE SET received = telemetry_stats.received + excluded.received,
 enqueued = telemetry_stats.enqueued + excluded.enqueued, rejected = telemetry_stats.rejected + excluded.rejected,
 backfill_enqueued = telemetry_stats.backfill_enqueued + excluded.backfill_enqueued`,
	);
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

/** One tenant's counters, or with null the platform's (sums over tenants, batch figures from '*'). */
export async function readStats(db: D1Database, tenantId: string | null): Promise<StatsRow> {
	const row =
		tenantId === null
			? await db
					.prepare(
						`SELECT COALESCE(SUM(received), 0) AS received, COALESCE(SUM(enqueued), 0) AS enqueued, COALESCE(SUM(rejected), 0) AS rejected,
 COALESCE(SUM(processed), 0) AS processed,
 (SELECT batches FROM telemetry_stats WHERE tenant_id = '*') AS batches,
 (SELECT last_batch_at FROM telemetry_stats WHERE tenant_id = '*') AS last_batch_at,
 (SELECT last_batch_size FROM telemetry_stats WHERE tenant_id = '*') AS last_batch_size,
 (SELECT total_batch_ms FROM telemetry_stats WHERE tenant_id = '*') AS total_batch_ms,
 (SELECT COALESCE(SUM(update_count), 0) FROM dead_letters WHERE replayed_at IS NULL) AS dead_letters,
 COALESCE(SUM(backfill_enqueued), 0) AS backfill_enqueued, COALESCE(SUM(backfill_processed), 0) AS backfill_processed,
 (SELECT ${BACKFILL_DEAD} FROM dead_letters WHERE replayed_at IS NULL) AS backfill_dead_letters
 FROM telemetry_stats WHERE tenant_id <> '*'`,
					)
					.first<StatsRow>()
			: await db
					.prepare(
						`SELECT s.received, s.enqueued, s.rejected, s.processed, s.batches, s.last_batch_at, s.last_batch_size, s.total_batch_ms,
 (SELECT COALESCE(SUM(update_count), 0) FROM dead_letters WHERE tenant_id = ?1 AND replayed_at IS NULL) AS dead_letters,
 s.backfill_enqueued, s.backfill_processed,
 (SELECT ${BACKFILL_DEAD} FROM dead_letters WHERE tenant_id = ?1 AND replayed_at IS NULL) AS backfill_dead_letters
 FROM (SELECT ?1 AS tenant_id) t LEFT JOIN telemetry_stats s ON s.tenant_id = t.tenant_id`,
					)
					.bind(tenantId)
					.first<StatsRow>();
	return normalize(row);
}

// Dead letters keep the message body; a backfill message says so in it (lanes.ts).
const BACKFILL_DEAD = `COALESCE(SUM(CASE WHEN json_extract(body, '$.lane') = 'backfill' THEN update_count ELSE 0 END), 0)`;

/** Updates accepted but not yet written or dead-lettered: over the platform, and of one tenant. */
export type BacklogReading = { platform: number; tenant: number };

/**
 * enqueued − processed − dead-lettered updates over the platform and for `tenantId`, in one read
 * (not clamped: callers add local deltas).
 */
export async function readBacklog(db: D1Database, tenantId: string): Promise<BacklogReading> {
	const row = await db
		.prepare(
			`SELECT
 (SELECT COALESCE(SUM(enqueued), 0) - COALESCE(SUM(processed), 0) FROM telemetry_stats WHERE tenant_id <> '*')
 - (SELECT COALESCE(SUM(update_count), 0) FROM dead_letters WHERE replayed_at IS NULL) AS platform,
 (SELECT COALESCE(SUM(enqueued), 0) - COALESCE(SUM(processed), 0) FROM telemetry_stats WHERE tenant_id = ?1)
 - (SELECT COALESCE(SUM(update_count), 0) FROM dead_letters WHERE tenant_id = ?1 AND replayed_at IS NULL) AS tenant`,
		)
		.bind(tenantId)
		.first<BacklogReading>();
	return { platform: row?.platform ?? 0, tenant: row?.tenant ?? 0 };
}

function normalize(row: Partial<Record<keyof StatsRow, number | null>> | null): StatsRow {
	return {
		received: row?.received ?? 0,
		enqueued: row?.enqueued ?? 0,
		rejected: row?.rejected ?? 0,
		processed: row?.processed ?? 0,
		batches: row?.batches ?? 0,
		last_batch_at: row?.last_batch_at ?? null,
		last_batch_size: row?.last_batch_size ?? null,
		total_batch_ms: row?.total_batch_ms ?? 0,
		dead_letters: row?.dead_letters ?? 0,
		backfill_enqueued: row?.backfill_enqueued ?? 0,
		backfill_processed: row?.backfill_processed ?? 0,
		backfill_dead_letters: row?.backfill_dead_letters ?? 0,
	};
}
