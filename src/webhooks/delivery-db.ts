import { deleteOldestRows, multiRowInsert } from "../platform/sql-db";
import type { SqlValue } from "../platform/sql-db";

/** Webhook events, their payload parts, deliveries and attempts in D1 (the only SQL on them). */

export type EventRow = {
	id: string;
	tenant_id: string;
	type: string;
	idempotency_key: string | null;
	payload_parts: number;
	created_at: number;
};
export type DeliveryStatus = "pending" | "delivering" | "succeeded" | "failed" | "dead";
export type DeliveryRow = {
	id: string;
	tenant_id: string;
	event_id: string;
	endpoint_id: string;
	origin_key: string | null;
	lane_key: string | null;
	status: DeliveryStatus;
	attempts: number;
	lease_until: number | null;
	next_attempt_at: number | null;
	last_status_code: number | null;
	dead_reason: string | null;
	created_at: number;
	updated_at: number;
};
export type NewDelivery = Pick<
	DeliveryRow,
	"id" | "tenant_id" | "event_id" | "endpoint_id" | "origin_key" | "lane_key"
>;
export type AttemptRow = {
	id: string;
	delivery_id: string;
	event_id: string;
	attempt: number;
	status_code: number | null;
	latency_ms: number;
	response_excerpt: string | null;
	error: string | null;
	created_at: number;
};

/** How long a claimed attempt is owned before a redelivered message may take it over. */
export const LEASE_MS = 60_000;
export const DELIVERY_COLUMNS =
	"id, tenant_id, event_id, endpoint_id, origin_key, lane_key, status, attempts, lease_until, next_attempt_at, last_status_code, dead_reason, created_at, updated_at";

/** The event and its payload parts in one transaction; false when the idempotency key was used before. */
export async function insertEvent(db: D1Database, row: EventRow, parts: readonly string[]): Promise<boolean> {
	const [head] = await db.batch([
		db
			.prepare(
				`INSERT INTO webhook_events (id, tenant_id, type, idempotency_key, payload_parts, created_at)
				 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			)
			.bind(row.id, row.tenant_id, row.type, row.idempotency_key, row.payload_parts, row.created_at),
		// Parts only land with their event (a conflicting key leaves them out).
		...parts.map((part, seq) =>
			db
				.prepare(
					`INSERT INTO webhook_event_parts (event_id, seq, part, created_at)
					 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM webhook_events WHERE id = ?1)`,
				)
				.bind(row.id, seq, part, row.created_at),
		),
	]);
	return (head?.meta.changes ?? 0) > 0;
}

export function findEventByKey(db: D1Database, tenantId: string, key: string): Promise<EventRow | null> {
	return db
		.prepare("SELECT * FROM webhook_events WHERE tenant_id = ? AND idempotency_key = ?")
		.bind(tenantId, key)
		.first<EventRow>();
}

export function findEvent(db: D1Database, tenantId: string, id: string): Promise<EventRow | null> {
	return db.prepare("SELECT * FROM webhook_events WHERE tenant_id = ? AND id = ?").bind(tenantId, id).first<EventRow>();
}

export async function readPayload(db: D1Database, eventId: string): Promise<string> {
	const { results } = await db
		.prepare("SELECT part FROM webhook_event_parts WHERE event_id = ? ORDER BY seq")
		.bind(eventId)
		.all<{ part: string }>();
	return results.map((r) => r.part).join("");
}

/** New deliveries; a fan-out that ran before (same origin_key) adds nothing. */
export async function insertDeliveries(db: D1Database, rows: readonly NewDelivery[], now: number): Promise<void> {
	const values: SqlValue[][] = rows.map((r) => [
		r.id,
		r.tenant_id,
		r.event_id,
		r.endpoint_id,
		r.origin_key,
		r.lane_key,
		"pending",
		now,
		now,
	]);
	const columns = [
		"id",
		"tenant_id",
		"event_id",
		"endpoint_id",
		"origin_key",
		"lane_key",
		"status",
		"created_at",
		"updated_at",
	];
	const statements = multiRowInsert("webhook_deliveries", columns, values, "ON CONFLICT DO NOTHING");
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

/** Deliveries of an event not yet attempted (what a repeated fan-out must (re)send). */
export async function unsentDeliveries(db: D1Database, tenantId: string, eventId: string): Promise<DeliveryRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND event_id = ? AND status = 'pending' AND attempts = 0`,
		)
		.bind(tenantId, eventId)
		.all<DeliveryRow>();
	return results;
}

export function findDelivery(db: D1Database, tenantId: string, id: string): Promise<DeliveryRow | null> {
	return db
		.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND id = ?`)
		.bind(tenantId, id)
		.first<DeliveryRow>();
}

/** The latest delivery per endpoint of an event. */
export async function deliveriesOfEvent(db: D1Database, tenantId: string, eventId: string): Promise<DeliveryRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND event_id = ? ORDER BY created_at, id LIMIT 2000`,
		)
		.bind(tenantId, eventId)
		.all<DeliveryRow>();
	return results;
}

/**
 * Compare-and-set: the delivery moves to `delivering` for attempt `attempt` only if it is pending
 * with attempt-1 attempts made, or its previous owner's lease ran out. False: the message is stale.
 */
export async function claimDelivery(
	db: D1Database,
	tenantId: string,
	id: string,
	attempt: number,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE webhook_deliveries SET status = 'delivering', lease_until = ?1, updated_at = ?2
			 WHERE tenant_id = ?3 AND id = ?4 AND attempts = ?5 AND (status = 'pending' OR (status = 'delivering' AND lease_until < ?2))`,
		)
		.bind(now + LEASE_MS, now, tenantId, id, attempt - 1)
		.run();
	return result.meta.changes > 0;
}

/** Stores an attempt and the delivery's state after it, in one transaction. */
export async function recordAttempt(
	db: D1Database,
	attempt: AttemptRow & { tenant_id: string; endpoint_id: string },
	next: { status: DeliveryStatus; nextAttemptAt: number | null; deadReason: string | null },
): Promise<void> {
	await db.batch([
		db
			.prepare(
				`INSERT INTO webhook_attempts (id, tenant_id, endpoint_id, delivery_id, event_id, attempt, status_code, latency_ms, response_excerpt, error, created_at)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			)
			.bind(
				attempt.id,
				attempt.tenant_id,
				attempt.endpoint_id,
				attempt.delivery_id,
				attempt.event_id,
				attempt.attempt,
				attempt.status_code,
				attempt.latency_ms,
				attempt.response_excerpt,
				attempt.error,
				attempt.created_at,
			),
		db
			.prepare(
				`UPDATE webhook_deliveries SET status = ?, attempts = ?, lease_until = NULL, next_attempt_at = ?, last_status_code = ?,
				   dead_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			)
			.bind(
				next.status,
				attempt.attempt,
				next.nextAttemptAt,
				attempt.status_code,
				next.deadReason,
				attempt.created_at,
				attempt.tenant_id,
				attempt.delivery_id,
			),
	]);
}

/** A delivery that will not be attempted again (its endpoint disabled, its queue retries spent). */
export async function finishDelivery(
	db: D1Database,
	tenantId: string,
	id: string,
	status: "failed" | "dead",
	reason: string,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE webhook_deliveries SET status = ?, dead_reason = ?, lease_until = NULL, updated_at = ?
			 WHERE tenant_id = ? AND id = ? AND status IN ('pending', 'delivering')`,
		)
		.bind(status, reason, now, tenantId, id)
		.run();
}

/** An endpoint's attempts, newest first, before the cursor (created_at, id). */
export async function listAttempts(
	db: D1Database,
	tenantId: string,
	endpointId: string,
	before: { createdAt: number; id: string } | null,
	limit: number,
): Promise<AttemptRow[]> {
	const { results } = await db
		.prepare(
			`SELECT id, delivery_id, event_id, attempt, status_code, latency_ms, response_excerpt, error, created_at
			 FROM webhook_attempts WHERE tenant_id = ?1 AND endpoint_id = ?2
			   AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND id < ?4))
			 ORDER BY created_at DESC, id DESC LIMIT ?5`,
		)
		.bind(tenantId, endpointId, before?.createdAt ?? null, before?.id ?? "", limit)
		.all<AttemptRow>();
	return results;
}

/** Status code and latency of an endpoint's attempts since `since` (at most `limit`, newest). */
export async function attemptSamples(
	db: D1Database,
	tenantId: string,
	endpointId: string,
	since: number,
	limit: number,
): Promise<{ status_code: number | null; latency_ms: number }[]> {
	const { results } = await db
		.prepare(
			`SELECT status_code, latency_ms FROM webhook_attempts WHERE tenant_id = ? AND endpoint_id = ? AND created_at >= ?
			 ORDER BY created_at DESC LIMIT ?`,
		)
		.bind(tenantId, endpointId, since, limit)
		.all<{ status_code: number | null; latency_ms: number }>();
	return results;
}

/** Events whose latest delivery to the endpoint since `since` failed or died (what recover re-sends). */
export async function failedEventsSince(
	db: D1Database,
	tenantId: string,
	endpointId: string,
	since: number,
	limit: number,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT d.event_id FROM webhook_deliveries d
			 WHERE d.tenant_id = ?1 AND d.endpoint_id = ?2 AND d.created_at >= ?3 AND d.status IN ('failed', 'dead')
			   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries n WHERE n.endpoint_id = d.endpoint_id AND n.event_id = d.event_id
			     AND n.created_at > d.created_at)
			 GROUP BY d.event_id ORDER BY MIN(d.created_at) LIMIT ?4`,
		)
		.bind(tenantId, endpointId, since, limit)
		.all<{ event_id: string }>();
	return results.map((r) => r.event_id);
}

/** Retention: the oldest rows of one webhook table (a code constant) created before `cutoff`. */
export function purgeWebhookRows(
	db: D1Database,
	table: "webhook_attempts" | "webhook_deliveries" | "webhook_event_parts" | "webhook_events",
	cutoff: number,
	limit: number,
): Promise<number> {
	return deleteOldestRows(db, table, "created_at", cutoff, limit);
}
