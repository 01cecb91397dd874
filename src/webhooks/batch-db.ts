import type { SqlValue } from "../platform/sql-db";
import { MAX_BOUND_PARAMETERS, multiRowInsert } from "../platform/sql-db";
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
/** Bound values per row of the batch claim (tenant, id, attempts made). */
const CLAIM_VALUES = 3;

export function findDeliveriesByIds(db: D1Database, ids: readonly string[]): Promise<DeliveryRow[]> {
	return selectByIds<DeliveryRow>(db, `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries`, ids);
}

export function findEndpointsByIds(db: D1Database, ids: readonly string[]): Promise<EndpointRow[]> {
	return selectByIds<EndpointRow>(db, `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints`, ids);
}

export function findEventsByIds(db: D1Database, ids: readonly string[]): Promise<EventRow[]> {
	return selectByIds<EventRow>(db, "SELECT * FROM webhook_events", ids);
}

/** One delivery's claim for an attempt (the compare-and-set of claimDelivery, per row). */
export type ClaimKey = { tenantId: string; id: string; attempt: number };

/**
 * claimDelivery for many deliveries in one transaction (≤ 32 rows per statement): each moves to
 * `delivering` until `leaseUntil` for attempt `attempt` only if it is pending with attempt-1
 * attempts made, or its previous owner's lease ran out. Answers the ids this call now owns.
 */
export async function claimDeliveries(
	db: D1Database,
	keys: readonly ClaimKey[],
	now: number,
	leaseUntil: number,
): Promise<Set<string>> {
	if (keys.length === 0) return new Set();
	const perStatement = Math.floor((MAX_BOUND_PARAMETERS - 2) / CLAIM_VALUES);
	const statements: D1PreparedStatement[] = [];
	for (let i = 0; i < keys.length; i += perStatement) {
		const slice = keys.slice(i, i + perStatement);
		const values = slice.map((_, j) => {
			const n = 3 + j * CLAIM_VALUES;
			return `(?${n}, ?${n + 1}, ?${n + 2})`;
		});
		statements.push(
			db
				.prepare(
					`UPDATE webhook_deliveries SET status = 'delivering', lease_until = ?1, updated_at = ?2
					 FROM (VALUES ${values.join(", ")}) AS v
					 WHERE webhook_deliveries.tenant_id = v.column1 AND webhook_deliveries.id = v.column2
					   AND webhook_deliveries.attempts = v.column3
					   AND (webhook_deliveries.status = 'pending' OR (webhook_deliveries.status = 'delivering' AND webhook_deliveries.lease_until < ?2))
					 RETURNING webhook_deliveries.id AS id`,
				)
				.bind(leaseUntil, now, ...slice.flatMap((k) => [k.tenantId, k.id, k.attempt - 1])),
		);
	}
	const results = await db.batch<{ id: string }>(statements);
	return new Set(results.flatMap((r) => r.results.map((row) => row.id)));
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
