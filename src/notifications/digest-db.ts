/** Notification digests in D1 (the only SQL on notification_digests). */

export type DigestStatus = "collecting" | "sealed" | "sent";
export type DigestRow = {
	id: string;
	tenant_id: string;
	user_id: string;
	category: string;
	channel: string;
	window_start: number;
	flush_at: number;
	status: DigestStatus;
	notification_id: string | null;
	item_count: number;
	enqueued_at: number | null;
	created_at: number;
	updated_at: number;
};
export type NewDigest = Pick<
	DigestRow,
	"id" | "tenant_id" | "user_id" | "category" | "channel" | "window_start" | "flush_at" | "created_at"
>;
/** A collected item: its notification's rendered content and recipient. */
export type DigestItemRow = { notification_id: string; content: string; recipient: string; created_at: number };

/** Creates the digest of a window, collecting; an existing one (of whichever status) is kept. */
export function insertDigestStatement(db: D1Database, d: NewDigest): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO notification_digests (id, tenant_id, user_id, category, channel, window_start, flush_at, status,
			 item_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'collecting', 0, ?, ?) ON CONFLICT DO NOTHING`,
		)
		.bind(d.id, d.tenant_id, d.user_id, d.category, d.channel, d.window_start, d.flush_at, d.created_at, d.created_at);
}

/** Recounts a collecting digest's items (run in the transaction that added one). */
export function countDigestItemsStatement(db: D1Database, id: string): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE notification_digests SET item_count = (SELECT COUNT(*) FROM notification_deliveries WHERE digest_id = ?1)
			 WHERE id = ?1 AND status = 'collecting'`,
		)
		.bind(id);
}

/**
 * Digests whose window has ended and that are not sent yet (collecting, or sealed by a flush that
 * stopped), and not put on the queue since `resendBefore`: marked enqueued now and returned.
 */
export async function takeDueDigests(
	db: D1Database,
	now: number,
	resendBefore: number,
	limit: number,
): Promise<Pick<DigestRow, "id" | "tenant_id">[]> {
	const { results } = await db
		.prepare(
			`UPDATE notification_digests SET enqueued_at = ?1 WHERE id IN (
			   SELECT id FROM notification_digests WHERE status IN ('collecting', 'sealed') AND flush_at <= ?1
			     AND (enqueued_at IS NULL OR enqueued_at < ?2) ORDER BY flush_at LIMIT ?3)
			 RETURNING id, tenant_id`,
		)
		.bind(now, resendBefore, limit)
		.all<Pick<DigestRow, "id" | "tenant_id">>();
	return results;
}

export function findDigest(db: D1Database, tenantId: string, id: string): Promise<DigestRow | null> {
	return db
		.prepare("SELECT * FROM notification_digests WHERE tenant_id = ? AND id = ?")
		.bind(tenantId, id)
		.first<DigestRow>();
}

/**
 * Compare-and-set collecting → sealed once the window is over: from here no item joins it (a late
 * send is queued on its own), so what the flush reads is everything the digest will ever hold.
 */
export async function sealDigest(db: D1Database, tenantId: string, id: string, now: number): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE notification_digests SET status = 'sealed', updated_at = ?1
			 WHERE tenant_id = ?2 AND id = ?3 AND status = 'collecting' AND flush_at <= ?1`,
		)
		.bind(now, tenantId, id)
		.run();
	return result.meta.changes > 0;
}

/** The items of a digest, oldest first (at most `limit`). */
export async function digestItems(
	db: D1Database,
	tenantId: string,
	id: string,
	limit: number,
): Promise<DigestItemRow[]> {
	const { results } = await db
		.prepare(
			`SELECT n.id AS notification_id, n.content, n.recipient, n.created_at FROM notification_deliveries d
			 JOIN notifications n ON n.id = d.notification_id
			 WHERE d.tenant_id = ? AND d.digest_id = ? ORDER BY n.created_at, n.id LIMIT ?`,
		)
		.bind(tenantId, id, limit)
		.all<DigestItemRow>();
	return results;
}

/** sealed → sent, with the notification that carried it. */
export async function markDigestSent(
	db: D1Database,
	tenantId: string,
	id: string,
	notificationId: string | null,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`UPDATE notification_digests SET status = 'sent', notification_id = ?, updated_at = ?
			 WHERE tenant_id = ? AND id = ? AND status = 'sealed'`,
		)
		.bind(notificationId, now, tenantId, id)
		.run();
}
