import type { SqlValue } from "../platform/sql";
import { MAX_BOUND_PARAMETERS, multiRowInsert } from "../platform/sql";
import type { EndpointRow } from "./db";
import { ENDPOINT_COLUMNS } from "./db";
import type { AttemptRow, DeliveryRow, DeliveryStatus, EventRow } from "./delivery-db";
import { DELIVERY_COLUMNS } from "./delivery-db";

/**
 * A queue batch's webhook reads and writes in few statements: the rows every attempt message of
 * the batch needs, read with one `IN` list per table, and the attempt log and delivery states of
 * the whole batch written in one transaction of multi-row statements (each ≤ 100 bound parameters).
 * Rows are returned by id; callers keep only those of the message's own tenant.
 */

export type AttemptWrite = {
	attempt: AttemptRow & { tenant_id: string; endpoint_id: string };
	next: { status: DeliveryStatus; nextAttemptAt: number | null; deadReason: string | null };
};

const ATTEMPT_COLUMNS = [
	"id",
	"tenant_id",
	"endpoint_id",
	"delivery_id",
	"event_id",
	"attempt",
	"status_code",
	"latency_ms",
	"response_excerpt",
	"error",
	"created_at",
];
/** Bound values per row of the delivery-state update below. */
const STATE_VALUES = 8;

export function findDeliveriesByIds(db: D1Database, ids: readonly string[]): Promise<DeliveryRow[]> {
	return selectByIds<DeliveryRow>(db, `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries`, ids);
}

export function findEndpointsByIds(db: D1Database, ids: readonly string[]): Promise<EndpointRow[]> {
	return selectByIds<EndpointRow>(db, `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints`, ids);
}

export function findEventsByIds(db: D1Database, ids: readonly string[]): Promise<EventRow[]> {
	return selectByIds<EventRow>(db, "SELECT * FROM webhook_events", ids);
}

/** Stores every attempt and each delivery's state after it, in one transaction. */
export async function recordAttempts(db: D1Database, writes: readonly AttemptWrite[]): Promise<void> {
	if (writes.length === 0) return;
	const attemptRows: SqlValue[][] = writes.map(({ attempt: a }) => [
		a.id,
		a.tenant_id,
		a.endpoint_id,
		a.delivery_id,
		a.event_id,
		a.attempt,
		a.status_code,
		a.latency_ms,
		a.response_excerpt,
		a.error,
		a.created_at,
	]);
	const inserts = multiRowInsert("webhook_attempts", ATTEMPT_COLUMNS, attemptRows, "ON CONFLICT DO NOTHING");
	const updates: D1PreparedStatement[] = [];
	const perStatement = Math.floor(MAX_BOUND_PARAMETERS / STATE_VALUES);
	for (let i = 0; i < writes.length; i += perStatement) {
		const slice = writes.slice(i, i + perStatement);
		const params: SqlValue[] = slice.flatMap(({ attempt: a, next }) => [
			a.delivery_id,
			a.tenant_id,
			next.status,
			a.attempt,
			next.nextAttemptAt,
			a.status_code,
			next.deadReason,
			a.created_at,
		]);
		const values = slice.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
		updates.push(
			db
				.prepare(
					`UPDATE webhook_deliveries SET status = v.column3, attempts = v.column4, lease_until = NULL,
					   next_attempt_at = v.column5, last_status_code = v.column6, dead_reason = v.column7, updated_at = v.column8
					 FROM (VALUES ${values}) AS v
					 WHERE webhook_deliveries.id = v.column1 AND webhook_deliveries.tenant_id = v.column2`,
				)
				.bind(...params),
		);
	}
	await db.batch([...inserts.map((s) => db.prepare(s.sql).bind(...s.params)), ...updates]);
}

async function selectByIds<Row>(db: D1Database, select: string, ids: readonly string[]): Promise<Row[]> {
	const unique = [...new Set(ids)];
	if (unique.length === 0) return [];
	const statements: D1PreparedStatement[] = [];
	for (let i = 0; i < unique.length; i += MAX_BOUND_PARAMETERS) {
		const slice = unique.slice(i, i + MAX_BOUND_PARAMETERS);
		statements.push(db.prepare(`${select} WHERE id IN (${slice.map(() => "?").join(", ")})`).bind(...slice));
	}
	const results = await db.batch<Row>(statements);
	return results.flatMap((r) => r.results);
}
