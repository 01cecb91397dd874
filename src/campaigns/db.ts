import { jsonChunks } from "../platform/sql-db";
import type { ImportRow, SubscriberStatus } from "./domain";

/** Lists and subscribers (D1). */

export type ListRow = { list_id: string; name: string; created_at: number };
export type SubscriberRow = {
	id: number;
	email: string;
	first_name: string;
	last_name: string;
	status: SubscriberStatus;
	created_at: number;
	updated_at: number;
};

const SUBSCRIBER_COLUMNS = "id, email, first_name, last_name, status, created_at, updated_at";

export async function insertList(db: D1Database, tenantId: string, row: ListRow): Promise<void> {
	await db
		.prepare("INSERT INTO email_lists (tenant_id, list_id, name, created_at) VALUES (?, ?, ?, ?)")
		.bind(tenantId, row.list_id, row.name, row.created_at)
		.run();
}

export async function getList(db: D1Database, tenantId: string, listId: string): Promise<ListRow | null> {
	return db
		.prepare("SELECT list_id, name, created_at FROM email_lists WHERE tenant_id = ? AND list_id = ?")
		.bind(tenantId, listId)
		.first<ListRow>();
}

export async function listLists(db: D1Database, tenantId: string, after: string, limit: number): Promise<ListRow[]> {
	const { results } = await db
		.prepare(
			"SELECT list_id, name, created_at FROM email_lists WHERE tenant_id = ? AND list_id > ? ORDER BY list_id LIMIT ?",
		)
		.bind(tenantId, after, limit)
		.all<ListRow>();
	return results;
}

export async function countByStatus(db: D1Database, tenantId: string, listId: string): Promise<Record<string, number>> {
	const { results } = await db
		.prepare("SELECT status, COUNT(*) AS n FROM email_subscribers WHERE tenant_id = ? AND list_id = ? GROUP BY status")
		.bind(tenantId, listId)
		.all<{ status: string; n: number }>();
	return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

/**
 * Upserts the rows in one transaction (all or nothing), as JSON chunks of < 100 KB each: one bound
 * parameter per statement whatever the row count. A known address keeps its status and id.
 */
export async function importSubscribers(
	db: D1Database,
	tenantId: string,
	listId: string,
	rows: readonly ImportRow[],
	now: number,
): Promise<void> {
	const statements = jsonChunks(rows).map((chunk) =>
		db
			.prepare(
				`INSERT INTO email_subscribers (tenant_id, list_id, email, first_name, last_name, created_at, updated_at)
 SELECT ?, ?, json_extract(value, '$.email'), json_extract(value, '$.first_name'), json_extract(value, '$.last_name'), ?, ?
 FROM json_each(?) WHERE true
 ON CONFLICT (tenant_id, list_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
 updated_at = excluded.updated_at`,
			)
			.bind(tenantId, listId, now, now, chunk),
	);
	if (statements.length > 0) await db.batch(statements);
}

export async function listSubscribers(
	db: D1Database,
	tenantId: string,
	listId: string,
	after: number,
	limit: number,
): Promise<SubscriberRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${SUBSCRIBER_COLUMNS} FROM email_subscribers WHERE tenant_id = ? AND list_id = ? AND id > ? ORDER BY id LIMIT ?`,
		)
		.bind(tenantId, listId, after, limit)
		.all<SubscriberRow>();
	return results;
}

export async function getSubscriber(
	db: D1Database,
	tenantId: string,
	listId: string,
	id: number,
): Promise<SubscriberRow | null> {
	return db
		.prepare(`SELECT ${SUBSCRIBER_COLUMNS} FROM email_subscribers WHERE tenant_id = ? AND list_id = ? AND id = ?`)
		.bind(tenantId, listId, id)
		.first<SubscriberRow>();
}

export async function deleteSubscriber(db: D1Database, tenantId: string, listId: string, id: number): Promise<boolean> {
	const result = await db
		.prepare("DELETE FROM email_subscribers WHERE tenant_id = ? AND list_id = ? AND id = ?")
		.bind(tenantId, listId, id)
		.run();
	return result.meta.changes > 0;
}

/** Sets a subscriber's status by address in every list of the tenant (an unsubscribe, a bounce). */
export function setStatusByEmail(
	db: D1Database,
	tenantId: string,
	email: string,
	status: SubscriberStatus,
	now: number,
) {
	return db
		.prepare(
			"UPDATE email_subscribers SET status = ?, updated_at = ? WHERE tenant_id = ? AND email = ? AND status = 'subscribed'",
		)
		.bind(status, now, tenantId, email);
}

export function addSuppression(db: D1Database, tenantId: string, email: string, reason: string, now: number) {
	return db
		.prepare(
			"INSERT INTO email_suppressions (tenant_id, email, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		)
		.bind(tenantId, email, reason, now);
}

/** The address of a subscriber of a campaign's list, or null. */
export async function recipientEmail(
	db: D1Database,
	tenantId: string,
	campaignId: string,
	subscriberId: number,
): Promise<string | null> {
	const row = await db
		.prepare(
			`SELECT s.email FROM email_campaigns c JOIN email_subscribers s ON s.tenant_id = c.tenant_id AND s.list_id = c.list_id
 WHERE c.tenant_id = ? AND c.campaign_id = ? AND s.id = ?`,
		)
		.bind(tenantId, campaignId, subscriberId)
		.first<{ email: string }>();
	return row?.email ?? null;
}
