/**
 * The shortener's SQL on the shared `dead_letters` table (queue = floodgate-clicks): click
 * messages that kept failing, one row per tenant whose links they counted, and their replay.
 */

export const CLICKS_QUEUE_NAME = "floodgate-clicks" as const;

export type ClickDeadLetter = {
	id: string;
	/** Unique across the table: `clicks:<tenant or ->:<message id>`, so a redelivered dead letter updates its row. */
	messageId: string;
	tenantId: string | null;
	kind: string;
	body: string;
	clicks: number;
	reason: string;
	attempts: number;
	createdAt: number;
};

export type ClickDeadLetterRow = {
	id: string;
	message_id: string;
	tenant_id: string | null;
	kind: string | null;
	body: string;
	update_count: number;
	reason: string;
	attempts: number;
	created_at: number;
	replayed_at: number | null;
	replay_count: number;
};

const FIELDS =
	"id, message_id, tenant_id, kind, body, update_count, reason, attempts, created_at, replayed_at, replay_count";

/** The owning tenant of each slug that exists (deleted links included: their clicks still count). */
export async function findSlugTenants(db: D1Database, slugs: readonly string[]): Promise<Map<string, string>> {
	const { results } = await db
		.prepare("SELECT slug, tenant_id FROM links WHERE slug IN (SELECT value FROM json_each(?))")
		.bind(JSON.stringify(slugs))
		.all<{ slug: string; tenant_id: string }>();
	return new Map(results.map((r) => [r.slug, r.tenant_id]));
}

/** A tenant's click dead letters, newest first, after `before` (a cursor), at most `limit`. */
export async function listClickDeadLetters(
	db: D1Database,
	tenantId: string,
	q: { status: "pending" | "replayed" | "all"; before: { createdAt: number; id: string } | null; limit: number },
): Promise<ClickDeadLetterRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${FIELDS} FROM dead_letters
 WHERE queue = ?1 AND tenant_id = ?2
 AND (?3 = 'all' OR (?3 = 'pending' AND replayed_at IS NULL) OR (?3 = 'replayed' AND replayed_at IS NOT NULL))
 AND (?4 IS NULL OR (created_at, id) < (?4, ?5))
 ORDER BY created_at DESC, id DESC LIMIT ?6`,
		)
		.bind(CLICKS_QUEUE_NAME, tenantId, q.status, q.before?.createdAt ?? null, q.before?.id ?? "", q.limit)
		.all<ClickDeadLetterRow>();
	return results;
}

export async function findClickDeadLetter(
	db: D1Database,
	tenantId: string,
	id: string,
): Promise<ClickDeadLetterRow | null> {
	return db
		.prepare(`SELECT ${FIELDS} FROM dead_letters WHERE id = ? AND tenant_id = ? AND queue = ?`)
		.bind(id, tenantId, CLICKS_QUEUE_NAME)
		.first<ClickDeadLetterRow>();
}

/** Marks a pending dead letter replayed; null when it is not (another replay won, or no such row). */
export async function markClickDeadLetterReplayed(
	db: D1Database,
	tenantId: string,
	id: string,
	at: number,
): Promise<ClickDeadLetterRow | null> {
	return db
		.prepare(
			`UPDATE dead_letters SET replayed_at = ?, replay_count = replay_count + 1
 WHERE id = ? AND tenant_id = ? AND queue = ? AND replayed_at IS NULL RETURNING ${FIELDS}`,
		)
		.bind(at, id, tenantId, CLICKS_QUEUE_NAME)
		.first<ClickDeadLetterRow>();
}
