import type { SqlStatement, SqlValue } from "../platform/sql-db";
import { jsonRowsInsert, multiRowInsert } from "../platform/sql-db";
import { runStatements } from "./db";
import type { LocationsMessage, ReportMessage, TelemetryMessage } from "./domain";
import { updateCount } from "./domain";

/**
 * The SQL the telemetry consumer runs for a group of validated messages, as one D1 batch (one
 * transaction): the data, the derived latest state, the message ids and the processed counter.
 * Every statement is idempotent, so a redelivered message changes nothing and is not counted twice.
 */

const LOCATION_COLUMNS = [
	"tenant_id",
	"truck_id",
	"recorded_at",
	"lat",
	"lng",
	"speed_kmh",
	"heading",
	"colo",
	"country",
	"received_at",
];
const REPORT_COLUMNS = [
	"tenant_id",
	"machine_id",
	"report_date",
	"inventory",
	"cash_cents",
	"temperature_c",
	"error_codes",
	"firmware",
	"colo",
	"country",
	"received_at",
	"message_id",
];

const POSITION_TAIL = `ON CONFLICT (tenant_id, truck_id) DO UPDATE SET ${assignments(LOCATION_COLUMNS.slice(2))}
 WHERE excluded.recorded_at > truck_positions.recorded_at`;
// A report received later replaces the earlier one for the same date; the message id breaks ties
// so that redelivering an older report can never win.
const REPORT_TAIL = `ON CONFLICT (tenant_id, machine_id, report_date) DO UPDATE SET ${assignments(REPORT_COLUMNS.slice(3))}
 WHERE (excluded.received_at, excluded.message_id) > (machine_reports.received_at, machine_reports.message_id)`;
const STATUS_TAIL = `ON CONFLICT (tenant_id, machine_id) DO UPDATE SET ${assignments(REPORT_COLUMNS.slice(2))}
 WHERE (excluded.report_date, excluded.received_at, excluded.message_id) > (machine_status.report_date, machine_status.received_at, machine_status.message_id)`;

/**
 * Writes validated messages in one transaction (see planTelemetryWrite). Every statement is
 * idempotent, so the caller retries the messages on a throw and a redelivery changes nothing.
 */
export async function writeTelemetry(
	db: D1Database,
	messages: readonly TelemetryMessage[],
	batchToken: string,
	now: number,
): Promise<void> {
	await runStatements(db, planTelemetryWrite(messages, batchToken, now));
}

/** Records batch metrics of written messages (see planBatchFigures) and prunes old message ids. */
export async function writeBatchFigures(
	db: D1Database,
	written: readonly TelemetryMessage[],
	timing: { at: number; elapsedMs: number; pruneBefore: number },
): Promise<void> {
	const byTenant = new Map<string, number>();
	for (const m of written) byTenant.set(m.tenant_id, (byTenant.get(m.tenant_id) ?? 0) + updateCount(m));
	const figures = [...byTenant].map(([tenantId, updates]) => ({ tenantId, updates }));
	await runStatements(db, planBatchFigures(figures, timing.at, timing.elapsedMs, timing.pruneBefore));
}

export function planTelemetryWrite(
	messages: readonly TelemetryMessage[],
	batchToken: string,
	now: number,
): SqlStatement[] {
	const locations = messages.filter((m): m is LocationsMessage => m.kind === "locations");
	const reports = messages.filter((m): m is ReportMessage => m.kind === "report");
	const locationRows = locations.flatMap((m) => m.points.map((p) => locationRow(m, p)));
	const reportRows = reports.map(reportRow);
	// Rows travel as JSON in one parameter per statement (jsonRowsInsert): a consumer batch of
	// ~1,700 points is a handful of statements, not ~300 of 10 rows each.
	return [
		...jsonRowsInsert("truck_locations", LOCATION_COLUMNS, locationRows, "ON CONFLICT DO NOTHING"),
		...jsonRowsInsert("truck_positions", LOCATION_COLUMNS, latestBy(locationRows, 2, [2]), POSITION_TAIL),
		...jsonRowsInsert("machine_reports", REPORT_COLUMNS, reportRows, REPORT_TAIL),
		...jsonRowsInsert("machine_status", REPORT_COLUMNS, latestBy(reportRows, 2, [2, 10, 11]), STATUS_TAIL),
		...jsonRowsInsert(
			"telemetry_messages",
			["message_id", "tenant_id", "update_count", "batch_token", "processed_at", "lane"],
			messages.map((m) => [m.id, m.tenant_id, updateCount(m), batchToken, now, m.lane ?? "live"]),
			"ON CONFLICT (message_id) DO NOTHING",
		),
		// Counts only the messages this batch recorded for the first time (the insert above skips known ids).
		{
			sql: `INSERT INTO telemetry_stats (tenant_id, processed, backfill_processed)
 SELECT tenant_id, SUM(update_count), SUM(CASE WHEN lane = 'backfill' THEN update_count ELSE 0 END)
 FROM telemetry_messages WHERE batch_token = ? GROUP BY tenant_id
 ON CONFLICT (tenant_id) DO UPDATE SET processed = telemetry_stats.processed + excluded.processed,
 backfill_processed = telemetry_stats.backfill_processed + excluded.backfill_processed`,
			params: [batchToken],
		},
	];
}

export type BatchFigures = { tenantId: string; updates: number };

/** Batch metrics per tenant and for the platform ('*'); written after the data, best effort. */
export function planBatchFigures(
	figures: readonly BatchFigures[],
	at: number,
	elapsedMs: number,
	pruneBefore: number,
): SqlStatement[] {
	const total = figures.reduce((sum, f) => sum + f.updates, 0);
	const rows: SqlValue[][] = [
		...figures.map((f) => [f.tenantId, 1, at, f.updates, elapsedMs]),
		["*", 1, at, total, elapsedMs],
	];
	return [
		...multiRowInsert(
			"telemetry_stats",
			["tenant_id", "batches", "last_batch_at", "last_batch_size", "total_batch_ms"],
			rows,
			`ON CONFLICT (tenant_id) DO UPDATE SET batches = telemetry_stats.batches + excluded.batches, last_batch_at = excluded.last_batch_at,
 last_batch_size = excluded.last_batch_size, total_batch_ms = telemetry_stats.total_batch_ms + excluded.total_batch_ms`,
		),
		{ sql: "DELETE FROM telemetry_messages WHERE processed_at < ?", params: [pruneBefore] },
	];
}

function locationRow(m: LocationsMessage, p: LocationsMessage["points"][number]): SqlValue[] {
	return [
		m.tenant_id,
		p.truck_id,
		p.recorded_at,
		p.lat,
		p.lng,
		p.speed_kmh,
		p.heading,
		m.colo,
		m.country,
		p.received_at ?? m.received_at,
	];
}

function reportRow(m: ReportMessage): SqlValue[] {
	const r = m.report;
	return [
		m.tenant_id,
		m.machine_id,
		r.report_date,
		JSON.stringify(r.inventory),
		r.cash_cents,
		r.temperature_c,
		JSON.stringify(r.error_codes),
		r.firmware,
		m.colo,
		m.country,
		m.received_at,
		m.id,
	];
}

/** One row per key (the first `keyWidth` columns), the greatest by the `order` columns. */
function latestBy(rows: readonly SqlValue[][], keyWidth: number, order: readonly number[]): SqlValue[][] {
	const best = new Map<string, SqlValue[]>();
	for (const row of rows) {
		const key = JSON.stringify(row.slice(0, keyWidth));
		const current = best.get(key);
		if (!current || compare(row, current, order) > 0) best.set(key, row);
	}
	return [...best.values()];
}

function compare(a: SqlValue[], b: SqlValue[], order: readonly number[]): number {
	for (const i of order) {
		const x = a[i] ?? "";
		const y = b[i] ?? "";
		if (x < y) return -1;
		if (x > y) return 1;
	}
	return 0;
}

function assignments(columns: readonly string[]): string {
	return columns.map((c) => `${c} = excluded.${c}`).join(", ");
}
