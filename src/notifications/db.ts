import { deleteOldestRows } from "../platform/sql-db";
import type { NewDigest } from "./digest-db";
import { countDigestItemsStatement, insertDigestStatement } from "./digest-db";

/** Notifications' tables in D1 (the only SQL on them). */

export type TemplateRow = { tenant_id: string; key: string; category: string; channels: string; updated_at: number };
export type NotificationRow = {
	id: string;
	tenant_id: string;
	user_id: string;
	template_key: string;
	category: string;
	priority: string;
	idempotency_key: string | null;
	recipient: string;
	content: string;
	created_at: number;
};
export type DeliveryStatus =
	"queued" | "sending" | "sent" | "delivered" | "failed" | "suppressed" | "throttled" | "digested";
export type DeliveryRow = {
	id: string;
	tenant_id: string;
	notification_id: string;
	channel: string;
	priority: string;
	status: DeliveryStatus;
	attempts: number;
	deliver_at: number;
	reason: string | null;
	last_error: string | null;
	updated_at: number;
	/** The digest that collected (or, while planned, is to collect) this delivery. */
	digest_id: string | null;
};
export type SmsRow = { idempotency_key: string; to_phone: string; text: string; created_at: number };

export async function upsertTemplate(db: D1Database, row: TemplateRow): Promise<void> {
	await db
		.prepare(
			`INSERT INTO notification_templates (tenant_id, key, category, channels, updated_at) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (tenant_id, key) DO UPDATE SET category = excluded.category, channels = excluded.channels,
			 updated_at = excluded.updated_at`,
		)
		.bind(row.tenant_id, row.key, row.category, row.channels, row.updated_at)
		.run();
}

export function findTemplate(db: D1Database, tenantId: string, key: string): Promise<TemplateRow | null> {
	return db
		.prepare("SELECT * FROM notification_templates WHERE tenant_id = ? AND key = ?")
		.bind(tenantId, key)
		.first<TemplateRow>();
}

/**
 * The notification and its deliveries in one transaction; false when its idempotency key was used.
 * A delivery planned into a digest joins it only while the digest is still collecting (its row is
 * created here if new); once the digest is sealed the delivery is queued on its own instead, so an
 * item is never lost to a digest that already went out.
 */
export async function insertNotification(
	db: D1Database,
	row: NotificationRow,
	deliveries: readonly DeliveryRow[],
	digests: readonly NewDigest[] = [],
): Promise<boolean> {
	const head = db
		.prepare(
			`INSERT INTO notifications (id, tenant_id, user_id, template_key, category, priority, idempotency_key,
			 recipient, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		)
		.bind(
			row.id,
			row.tenant_id,
			row.user_id,
			row.template_key,
			row.category,
			row.priority,
			row.idempotency_key,
			row.recipient,
			row.content,
			row.created_at,
		);
	// Deliveries only when their notification went in (a duplicate key inserts nothing).
	const children = deliveries.map((d) =>
		db
			.prepare(
				`INSERT INTO notification_deliveries (id, tenant_id, notification_id, channel, priority, status, attempts,
				 deliver_at, reason, last_error, updated_at, digest_id)
				 SELECT ?1, ?2, ?3, ?4, ?5, CASE WHEN ?9 IS NULL THEN ?6 WHEN open.id IS NOT NULL THEN 'digested' ELSE 'queued' END,
				   0, ?7, CASE WHEN ?9 IS NULL OR open.id IS NOT NULL THEN ?8 ELSE 'the digest window had closed' END, NULL, ?10,
				   open.id
				 FROM (SELECT 1) LEFT JOIN notification_digests open ON open.id = ?9 AND open.status = 'collecting'
				 WHERE EXISTS (SELECT 1 FROM notifications WHERE id = ?11) ON CONFLICT DO NOTHING`,
			)
			.bind(
				d.id,
				d.tenant_id,
				d.notification_id,
				d.channel,
				d.priority,
				d.status,
				d.deliver_at,
				d.reason,
				d.digest_id,
				d.updated_at,
				row.id,
			),
	);
	const results = await db.batch([
		...digests.map((g) => insertDigestStatement(db, g)),
		head,
		...children,
		...digests.map((g) => countDigestItemsStatement(db, g.id)),
	]);
	return (results[digests.length]?.meta.changes ?? 0) > 0;
}

export function findByIdempotencyKey(db: D1Database, tenantId: string, key: string): Promise<NotificationRow | null> {
	return db
		.prepare("SELECT * FROM notifications WHERE tenant_id = ? AND idempotency_key = ?")
		.bind(tenantId, key)
		.first<NotificationRow>();
}

export function findNotification(db: D1Database, tenantId: string, id: string): Promise<NotificationRow | null> {
	return db
		.prepare("SELECT * FROM notifications WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.first<NotificationRow>();
}

export async function deliveriesOf(db: D1Database, tenantId: string, notificationId: string): Promise<DeliveryRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM notification_deliveries WHERE tenant_id = ? AND notification_id = ? ORDER BY channel")
		.bind(tenantId, notificationId)
		.all<DeliveryRow>();
	return results;
}

export function findDelivery(db: D1Database, tenantId: string, id: string): Promise<DeliveryRow | null> {
	return db
		.prepare("SELECT * FROM notification_deliveries WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.first<DeliveryRow>();
}

/** Compare-and-set: the attempt belongs to the one message that moves the count from attempt-1. */
export async function claimDelivery(
	db: D1Database,
	tenantId: string,
	id: string,
	attempt: number,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE notification_deliveries SET status = 'sending', attempts = ?, updated_at = ?
			 WHERE tenant_id = ? AND id = ? AND attempts = ? AND status = 'queued'`,
		)
		.bind(attempt, now, tenantId, id, attempt - 1)
		.run();
	return result.meta.changes > 0;
}

/** Sets a delivery's status (and why); `onlyFrom` guards against overwriting a finished one. */
export async function setDeliveryStatus(
	db: D1Database,
	tenantId: string,
	id: string,
	change: { status: DeliveryStatus; reason?: string | null; lastError?: string | null; deliverAt?: number },
	onlyFrom: readonly DeliveryStatus[],
	now: number,
): Promise<boolean> {
	const from = onlyFrom.map(() => "?").join(", ");
	const result = await db
		.prepare(
			`UPDATE notification_deliveries SET status = ?, reason = COALESCE(?, reason), last_error = COALESCE(?, last_error),
			 deliver_at = COALESCE(?, deliver_at), updated_at = ? WHERE tenant_id = ? AND id = ? AND status IN (${from})`,
		)
		.bind(
			change.status,
			change.reason ?? null,
			change.lastError ?? null,
			change.deliverAt ?? null,
			now,
			tenantId,
			id,
			...onlyFrom,
		)
		.run();
	return result.meta.changes > 0;
}

export function findPreferences(
	db: D1Database,
	tenantId: string,
	userId: string,
): Promise<{ preferences: string } | null> {
	return db
		.prepare("SELECT preferences FROM notification_preferences WHERE tenant_id = ? AND user_id = ?")
		.bind(tenantId, userId)
		.first<{ preferences: string }>();
}

export async function upsertPreferences(
	db: D1Database,
	tenantId: string,
	userId: string,
	preferences: string,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`INSERT INTO notification_preferences (tenant_id, user_id, preferences, updated_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (tenant_id, user_id) DO UPDATE SET preferences = excluded.preferences, updated_at = excluded.updated_at`,
		)
		.bind(tenantId, userId, preferences, now)
		.run();
}

/** Records an SMS in the sandbox; a repeated key records nothing (the provider's deduplication). */
export async function recordSandboxSms(db: D1Database, tenantId: string, sms: SmsRow): Promise<void> {
	await db
		.prepare(
			`INSERT INTO notification_sms_sandbox (tenant_id, idempotency_key, to_phone, text, created_at)
			 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		)
		.bind(tenantId, sms.idempotency_key, sms.to_phone, sms.text, sms.created_at)
		.run();
}

/** Newest first, `limit` per page after the cursor (created_at, key). */
export async function listSandboxSms(
	db: D1Database,
	tenantId: string,
	limit: number,
	after: { createdAt: number; key: string } | null,
): Promise<SmsRow[]> {
	const { results } = await db
		.prepare(
			`SELECT idempotency_key, to_phone, text, created_at FROM notification_sms_sandbox WHERE tenant_id = ?
			 AND (? IS NULL OR created_at < ? OR (created_at = ? AND idempotency_key < ?))
			 ORDER BY created_at DESC, idempotency_key DESC LIMIT ?`,
		)
		.bind(tenantId, after?.createdAt ?? null, after?.createdAt ?? 0, after?.createdAt ?? 0, after?.key ?? "", limit)
		.all<SmsRow>();
	return results;
}

/** The push subscriptions (endpoints) a delivery has already reached. */
export async function pushedEndpoints(db: D1Database, deliveryId: string): Promise<Set<string>> {
	const { results } = await db
		.prepare("SELECT endpoint FROM notification_push_sent WHERE delivery_id = ?")
		.bind(deliveryId)
		.all<{ endpoint: string }>();
	return new Set(results.map((r) => r.endpoint));
}

export async function markPushed(db: D1Database, deliveryId: string, endpoint: string, now: number): Promise<void> {
	await db
		.prepare(
			"INSERT INTO notification_push_sent (delivery_id, endpoint, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		)
		.bind(deliveryId, endpoint, now)
		.run();
}

export function purgeNotificationRows(
	db: D1Database,
	table:
		| "notification_deliveries"
		| "notifications"
		| "notification_sms_sandbox"
		| "notification_push_sent"
		| "notification_digests",
	cutoff: number,
	limit: number,
): Promise<number> {
	return deleteOldestRows(db, table, table === "notification_deliveries" ? "updated_at" : "created_at", cutoff, limit);
}
