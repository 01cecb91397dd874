import { deleteOldestRows } from "./sql-db";
import type { SqlValue } from "./sql-db";
import { multiRowInsert } from "./sql-db";

/**
 * The one store of queue messages that kept failing (`dead_letters`), shared by the consumers that
 * keep theirs for inspection and replay: telemetry's and the feed's (operators' view,
 * GET /api/v1/dead-letters) and the shortener's clicks (each tenant's own view). A row is replayed
 * into the queue it names; one row per message id, so a message that dies again after a replay
 * becomes pending again (keeping its row id) and is never listed twice.
 */

/** The queues whose dead letters are kept here. */
export type DeadLetterQueue = "floodgate-telemetry" | "floodgate-feed" | "floodgate-clicks";

export type DeadLetter = {
	id: string;
	/** floodgate-telemetry when left out. */
	queue?: DeadLetterQueue;
	messageId: string;
	tenantId: string | null;
	kind: string | null;
	body: string;
	updateCount: number;
	reason: string;
	attempts: number;
	createdAt: number;
};

export type DeadLetterRow = {
	id: string;
	queue: DeadLetterQueue;
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

/** Narrows a lookup to one tenant's rows of one queue (a tenant's own view); null = every row. */
export type DeadLetterScope = { tenantId: string; queue: DeadLetterQueue } | null;

const FIELDS =
	"id, queue, message_id, tenant_id, kind, body, update_count, reason, attempts, created_at, replayed_at, replay_count";

export async function insertDeadLetters(db: D1Database, letters: readonly DeadLetter[]): Promise<void> {
	const rows: SqlValue[][] = letters.map((d) => [
		d.id,
		d.messageId,
		d.tenantId,
		d.kind,
		d.body,
		d.updateCount,
		d.reason,
		d.attempts,
		d.createdAt,
		d.queue ?? "floodgate-telemetry",
	]);
	const statements = multiRowInsert(
		"dead_letters",
		["id", "message_id", "tenant_id", "kind", "body", "update_count", "reason", "attempts", "created_at", "queue"],
		rows,
		`ON CONFLICT (message_id) DO UPDATE SET body = excluded.body, reason = excluded.reason,
 attempts = dead_letters.attempts + excluded.attempts, created_at = excluded.created_at, replayed_at = NULL`,
	);
	if (statements.length > 0) await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
}

/** Newest first, after `before` (a cursor); `status` pending = not replayed since it last died; null filters = every. */
export async function listDeadLetters(
	db: D1Database,
	q: {
		status: "pending" | "replayed" | "all";
		tenantId: string | null;
		queue: DeadLetterQueue | null;
		limit: number;
		before: { createdAt: number; id: string } | null;
	},
): Promise<DeadLetterRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${FIELDS} FROM dead_letters
 WHERE (?1 = 'all' OR (?1 = 'pending' AND replayed_at IS NULL) OR (?1 = 'replayed' AND replayed_at IS NOT NULL))
 AND (?2 IS NULL OR tenant_id = ?2)
 AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
 AND (?6 IS NULL OR queue = ?6)
 ORDER BY created_at DESC, id DESC LIMIT ?5`,
		)
		.bind(q.status, q.tenantId, q.before?.createdAt ?? null, q.before?.id ?? "", q.limit, q.queue)
		.all<DeadLetterRow>();
	return results;
}

/** The row `id`, within `scope` when one is given (another tenant's or queue's row is null). */
export async function findDeadLetter(
	db: D1Database,
	id: string,
	scope: DeadLetterScope = null,
): Promise<DeadLetterRow | null> {
	return db
		.prepare(`SELECT ${FIELDS} FROM dead_letters WHERE id = ?1 AND (?2 IS NULL OR (tenant_id = ?2 AND queue = ?3))`)
		.bind(id, scope?.tenantId ?? null, scope?.queue ?? null)
		.first<DeadLetterRow>();
}

/**
 * Marks the pending row `id` (within `scope`) replayed; null when there is no such pending row
 * (another replay won, or it does not exist).
 */
export async function markReplayed(
	db: D1Database,
	id: string,
	at: number,
	scope: DeadLetterScope = null,
): Promise<DeadLetterRow | null> {
	return db
		.prepare(
			`UPDATE dead_letters SET replayed_at = ?1, replay_count = replay_count + 1
 WHERE id = ?2 AND replayed_at IS NULL AND (?3 IS NULL OR (tenant_id = ?3 AND queue = ?4)) RETURNING ${FIELDS}`,
		)
		.bind(at, id, scope?.tenantId ?? null, scope?.queue ?? null)
		.first<DeadLetterRow>();
}

/** Dead letters that last died before `cutoff` (replayed or not), oldest first, at most `limit`. */
export async function purgeExpiredDeadLetters(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "dead_letters", "created_at", cutoff, limit);
}
