import { deleteOldestRows } from "../platform/sql";
import type { SqlValue } from "../platform/sql";
import { multiRowInsert } from "../platform/sql";

/** The queues whose dead letters are kept here (a row is replayed into its own queue). */
export const DEAD_LETTER_QUEUES = ["floodgate-telemetry", "floodgate-feed"] as const;
export type DeadLetterQueue = (typeof DEAD_LETTER_QUEUES)[number];

export type DeadLetter = {
	id: string;
	/** Telemetry's when left out; the shortener keeps its click dead letters here too (floodgate-clicks). */
	queue?: DeadLetterQueue | "floodgate-clicks";
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

const FIELDS =
	"id, queue, message_id, tenant_id, kind, body, update_count, reason, attempts, created_at, replayed_at, replay_count";

/**
 * Keeps dead letters, one row per message id: a message that dies again after a replay becomes
 * pending again (keeping its row id), so it is never listed twice.
 */
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

/** Newest first; `status` pending = not replayed since it last died. */
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

export async function findDeadLetter(db: D1Database, id: string): Promise<DeadLetterRow | null> {
	return db.prepare(`SELECT ${FIELDS} FROM dead_letters WHERE id = ?`).bind(id).first<DeadLetterRow>();
}

export async function markReplayed(db: D1Database, id: string, at: number): Promise<DeadLetterRow | null> {
	return db
		.prepare(
			`UPDATE dead_letters SET replayed_at = ?, replay_count = replay_count + 1 WHERE id = ? RETURNING ${FIELDS}`,
		)
		.bind(at, id)
		.first<DeadLetterRow>();
}

/** Dead letters that last died before `cutoff` (replayed or not), oldest first, at most `limit`. */
export async function purgeExpiredDeadLetters(db: D1Database, cutoff: number, limit: number): Promise<number> {
	return deleteOldestRows(db, "dead_letters", "created_at", cutoff, limit);
}
