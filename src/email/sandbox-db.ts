import type { SqlValue } from "../platform/sql-db";
import { jsonChunks } from "../platform/sql-db";

/** The sandbox provider's record (D1): messages deduplicated by (tenant, idempotency key). */

export type SandboxRow = {
	seq: number;
	idempotency_key: string;
	campaign_id: string | null;
	recipient: string;
	sender: string;
	subject: string;
	text_body: string;
	html_body: string | null;
	headers: string;
	outcome: string;
	created_at: number;
};

export type SandboxInsert = {
	key: string;
	campaign: string | null;
	to: string;
	from: string;
	subject: string;
	text: string;
	html: string | null;
	headers: string;
	outcome: string;
};

export async function existingOutcomes(
	db: D1Database,
	tenantId: string,
	keys: readonly string[],
): Promise<Map<string, string>> {
	const { results } = await db
		.prepare(
			"SELECT idempotency_key, outcome FROM email_sandbox_messages WHERE tenant_id = ? AND idempotency_key IN (SELECT value FROM json_each(?))",
		)
		.bind(tenantId, JSON.stringify(keys))
		.all<{ idempotency_key: string; outcome: string }>();
	return new Map(results.map((r) => [r.idempotency_key, r.outcome]));
}

/** Records first attempts of `keys`; returns the keys seen for the first time now. */
export async function firstAttempts(
	db: D1Database,
	tenantId: string,
	keys: readonly string[],
	now: number,
): Promise<Set<string>> {
	if (keys.length === 0) return new Set();
	const { results } = await db
		.prepare(
			`INSERT INTO email_sandbox_attempts (tenant_id, idempotency_key, created_at)
 SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING idempotency_key`,
		)
		.bind(tenantId, now, JSON.stringify(keys))
		.all<{ idempotency_key: string }>();
	return new Set(results.map((r) => r.idempotency_key));
}

/** Inserts the messages (a key already recorded is left as it was), in one transaction. */
export async function recordMessages(
	db: D1Database,
	tenantId: string,
	rows: readonly SandboxInsert[],
	now: number,
): Promise<void> {
	const statements: D1PreparedStatement[] = [];
	for (const chunk of jsonChunks(rows)) {
		statements.push(
			db
				.prepare(
					`INSERT INTO email_sandbox_messages (tenant_id, idempotency_key, campaign_id, recipient, sender, subject, text_body, html_body, headers, outcome, created_at)
 SELECT ?, json_extract(value, '$.key'), json_extract(value, '$.campaign'), json_extract(value, '$.to'), json_extract(value, '$.from'),
 json_extract(value, '$.subject'), json_extract(value, '$.text'), json_extract(value, '$.html'), json_extract(value, '$.headers'),
 json_extract(value, '$.outcome'), ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
				)
				.bind(tenantId, now, chunk),
		);
	}
	if (statements.length > 0) await db.batch(statements);
}

export async function listMessages(
	db: D1Database,
	tenantId: string,
	campaignId: string | null,
	after: number,
	limit: number,
): Promise<SandboxRow[]> {
	const params: SqlValue[] = [tenantId, after];
	let filter = "";
	if (campaignId !== null) {
		filter = " AND campaign_id = ?";
		params.push(campaignId);
	}
	params.push(limit);
	const { results } = await db
		.prepare(
			`SELECT seq, idempotency_key, campaign_id, recipient, sender, subject, text_body, html_body, headers, outcome, created_at
 FROM email_sandbox_messages WHERE tenant_id = ? AND seq > ?${filter} ORDER BY seq LIMIT ?`,
		)
		.bind(...params)
		.all<SandboxRow>();
	return results;
}

export async function purgeExpiredSandboxMessages(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			"DELETE FROM email_sandbox_messages WHERE seq IN (SELECT seq FROM email_sandbox_messages WHERE created_at < ? ORDER BY created_at LIMIT ?)",
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}
