/**
 * The delivery ledger (D1): one row per (campaign, subscriber), its key the provider idempotency
 * key. A row is `pending` until it is `sent`, `bounced`, `suppressed` or `failed` for good; a tick
 * claims pending rows with a lease under its chain token (a redelivered tick re-claims its own).
 */

export type ClaimedRow = {
	subscriber_id: number;
	email: string;
	attempts: number;
	first_name: string;
	last_name: string;
};

export type Outcome =
	| { kind: "sent"; id: number; providerId: string }
	| { kind: "bounced" | "suppressed"; id: number; reason: string }
	| { kind: "failed"; id: number; reason: string }
	| { kind: "retry"; id: number; reason: string; nextAttemptAt: number };

const COUNTER: Record<"sent" | "bounced" | "suppressed" | "failed", string> = {
	sent: "sent",
	bounced: "bounced",
	suppressed: "suppressed",
	failed: "failed",
};

/** Adds ledger rows for the next `chunk` subscribed subscribers; false once the list is exhausted. */
export async function fillLedger(
	db: D1Database,
	tenantId: string,
	campaign: { campaign_id: string; list_id: string; fill_cursor: number },
	chunk: number,
	now: number,
): Promise<boolean> {
	const range = await db
		.prepare(
			`SELECT COUNT(*) AS n, MAX(id) AS last FROM (SELECT id FROM email_subscribers
 WHERE tenant_id = ? AND list_id = ? AND id > ? AND status = 'subscribed' ORDER BY id LIMIT ?)`,
		)
		.bind(tenantId, campaign.list_id, campaign.fill_cursor, chunk)
		.first<{ n: number; last: number | null }>();
	if (!range || range.n === 0 || range.last === null) {
		await db
			.prepare(
				`UPDATE email_campaigns SET fill_done = 1, total = (SELECT COUNT(*) FROM email_deliveries WHERE campaign_id = ?)
 WHERE campaign_id = ? AND fill_cursor = ?`,
			)
			.bind(campaign.campaign_id, campaign.campaign_id, campaign.fill_cursor)
			.run();
		return false;
	}
	await db.batch([
		db
			.prepare(
				`INSERT INTO email_deliveries (campaign_id, subscriber_id, tenant_id, email, updated_at)
 SELECT ?, id, tenant_id, email, ? FROM email_subscribers
 WHERE tenant_id = ? AND list_id = ? AND status = 'subscribed' AND id > ? AND id <= ? ON CONFLICT DO NOTHING`,
			)
			.bind(campaign.campaign_id, now, tenantId, campaign.list_id, campaign.fill_cursor, range.last),
		db
			.prepare("UPDATE email_campaigns SET fill_cursor = ? WHERE campaign_id = ? AND fill_cursor = ?")
			.bind(range.last, campaign.campaign_id, campaign.fill_cursor),
	]);
	return true;
}

/** Pending rows without a live lease (or leased by this chain already), due now, with the subscriber's fields. */
export async function claimRows(
	db: D1Database,
	campaignId: string,
	claim: string,
	limit: number,
	leaseMs: number,
	now: number,
): Promise<ClaimedRow[]> {
	const { results } = await db
		.prepare(
			`UPDATE email_deliveries SET claim = ?, lease_until = ? WHERE campaign_id = ? AND subscriber_id IN (
 SELECT subscriber_id FROM email_deliveries WHERE campaign_id = ? AND status = 'pending' AND next_attempt_at <= ?
 AND (lease_until <= ? OR claim = ?) ORDER BY subscriber_id LIMIT ?)
 RETURNING subscriber_id, email, attempts,
 COALESCE((SELECT first_name FROM email_subscribers s WHERE s.id = subscriber_id), '') AS first_name,
 COALESCE((SELECT last_name FROM email_subscribers s WHERE s.id = subscriber_id), '') AS last_name`,
		)
		.bind(claim, now + leaseMs, campaignId, campaignId, now, now, claim, limit)
		.all<ClaimedRow>();
	return results.sort((a, b) => a.subscriber_id - b.subscriber_id);
}

/** Of `emails`, those the tenant must not be sent to: suppressed, or no longer subscribed in the list. */
export async function blockedEmails(
	db: D1Database,
	tenantId: string,
	listId: string,
	emails: readonly string[],
): Promise<Map<string, string>> {
	const json = JSON.stringify(emails);
	const [suppressed, unsubscribed] = await db.batch<{ email: string; reason: string }>([
		db
			.prepare(
				"SELECT email, reason FROM email_suppressions WHERE tenant_id = ? AND email IN (SELECT value FROM json_each(?))",
			)
			.bind(tenantId, json),
		db
			.prepare(
				`SELECT j.value AS email, COALESCE(s.status, 'deleted') AS reason FROM json_each(?) j
 LEFT JOIN email_subscribers s ON s.tenant_id = ? AND s.list_id = ? AND s.email = j.value
 WHERE s.status IS NULL OR s.status != 'subscribed'`,
			)
			.bind(json, tenantId, listId),
	]);
	const blocked = new Map<string, string>();
	for (const r of [...(unsubscribed?.results ?? []), ...(suppressed?.results ?? [])]) blocked.set(r.email, r.reason);
	return blocked;
}

/** Records outcomes of rows this chain claimed, with the campaign's counters, in one transaction. */
export async function recordOutcomes(
	db: D1Database,
	campaignId: string,
	claim: string,
	outcomes: readonly Outcome[],
	maxAttempts: number,
	now: number,
): Promise<void> {
	const statements: D1PreparedStatement[] = [];
	for (const kind of ["sent", "bounced", "suppressed", "failed"] as const) {
		const rows = outcomes.filter((o) => o.kind === kind);
		if (rows.length === 0) continue;
		const json = JSON.stringify(
			rows.map((o) => ({ s: o.id, d: "providerId" in o ? o.providerId : "reason" in o ? o.reason : "" })),
		);
		const detail = kind === "sent" ? "provider_id" : "last_error";
		statements.push(
			db
				.prepare(
					`UPDATE email_deliveries SET status = ?, ${detail} = json_extract(j.value, '$.d'), attempts = attempts + 1,
 lease_until = 0, updated_at = ? FROM json_each(?) AS j
 WHERE email_deliveries.campaign_id = ? AND email_deliveries.subscriber_id = json_extract(j.value, '$.s')
 AND email_deliveries.status = 'pending' AND email_deliveries.claim = ?`,
				)
				.bind(kind, now, json, campaignId, claim),
			counterStatement(db, campaignId, COUNTER[kind]),
		);
	}
	const retries = outcomes.filter((o) => o.kind === "retry");
	if (retries.length > 0) {
		const json = JSON.stringify(retries.map((o) => ({ s: o.id, d: o.reason, n: o.nextAttemptAt })));
		// Those out of attempts are dead-lettered (failed, with the reason); the rest wait for their next attempt.
		statements.push(
			db
				.prepare(
					`UPDATE email_deliveries SET status = 'failed', last_error = json_extract(j.value, '$.d'), attempts = attempts + 1,
 lease_until = 0, updated_at = ? FROM json_each(?) AS j
 WHERE email_deliveries.campaign_id = ? AND email_deliveries.subscriber_id = json_extract(j.value, '$.s')
 AND email_deliveries.status = 'pending' AND email_deliveries.claim = ? AND email_deliveries.attempts + 1 >= ?`,
				)
				.bind(now, json, campaignId, claim, maxAttempts),
			counterStatement(db, campaignId, "failed"),
			db
				.prepare(
					`UPDATE email_deliveries SET last_error = json_extract(j.value, '$.d'), attempts = attempts + 1,
 next_attempt_at = json_extract(j.value, '$.n'), lease_until = 0, claim = NULL, updated_at = ? FROM json_each(?) AS j
 WHERE email_deliveries.campaign_id = ? AND email_deliveries.subscriber_id = json_extract(j.value, '$.s')
 AND email_deliveries.status = 'pending' AND email_deliveries.claim = ?`,
				)
				.bind(now, json, campaignId, claim),
		);
	}
	if (statements.length > 0) await db.batch(statements);
}

/** Gives claimed rows back untouched (a throttled or unavailable provider: no attempt is counted). */
export async function releaseClaims(db: D1Database, campaignId: string, claim: string): Promise<void> {
	await db
		.prepare(
			"UPDATE email_deliveries SET lease_until = 0, claim = NULL WHERE campaign_id = ? AND claim = ? AND status = 'pending'",
		)
		.bind(campaignId, claim)
		.run();
}

/** How many rows are still pending, and when the earliest can be tried (backoff or another lease). */
export async function pendingState(db: D1Database, campaignId: string): Promise<{ n: number; nextAt: number | null }> {
	const row = await db
		.prepare(
			`SELECT COUNT(*) AS n, MIN(MAX(next_attempt_at, lease_until)) AS next_at FROM email_deliveries
 WHERE campaign_id = ? AND status = 'pending'`,
		)
		.bind(campaignId)
		.first<{ n: number; next_at: number | null }>();
	return { n: row?.n ?? 0, nextAt: row?.next_at ?? null };
}

export type DeadLetterRow = {
	subscriber_id: number;
	email: string;
	attempts: number;
	last_error: string | null;
	updated_at: number;
};

export async function listDeadLetters(
	db: D1Database,
	campaignId: string,
	after: number,
	limit: number,
): Promise<DeadLetterRow[]> {
	const { results } = await db
		.prepare(
			`SELECT subscriber_id, email, attempts, last_error, updated_at FROM email_deliveries
 WHERE campaign_id = ? AND status = 'failed' AND subscriber_id > ? ORDER BY subscriber_id LIMIT ?`,
		)
		.bind(campaignId, after, limit)
		.all<DeadLetterRow>();
	return results;
}

/** Makes up to `limit` dead letters pending again (fresh attempts); returns how many. */
export async function retryDeadLetters(
	db: D1Database,
	campaignId: string,
	limit: number,
	now: number,
): Promise<number> {
	const [moved] = await db.batch([
		db
			.prepare(
				`UPDATE email_deliveries SET status = 'pending', attempts = 0, next_attempt_at = 0, lease_until = 0, claim = NULL, updated_at = ?
 WHERE campaign_id = ? AND subscriber_id IN (SELECT subscriber_id FROM email_deliveries WHERE campaign_id = ? AND status = 'failed' LIMIT ?)`,
			)
			.bind(now, campaignId, campaignId, limit),
		db.prepare("UPDATE email_campaigns SET failed = failed - changes() WHERE campaign_id = ?").bind(campaignId),
	]);
	return moved?.meta.changes ?? 0;
}

/** A bounce reported after delivery (a provider webhook): the row moves from sent to bounced. */
export function markBounced(
	db: D1Database,
	campaignId: string,
	subscriberId: number,
	reason: string,
	now: number,
): D1PreparedStatement[] {
	return [
		db
			.prepare(
				"UPDATE email_deliveries SET status = 'bounced', last_error = ?, updated_at = ? WHERE campaign_id = ? AND subscriber_id = ? AND status = 'sent'",
			)
			.bind(reason, now, campaignId, subscriberId),
		db
			.prepare(
				"UPDATE email_campaigns SET bounced = bounced + changes(), sent = sent - changes() WHERE campaign_id = ?",
			)
			.bind(campaignId),
	];
}

export async function purgeExpiredDeliveries(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			"DELETE FROM email_deliveries WHERE rowid IN (SELECT rowid FROM email_deliveries WHERE updated_at < ? AND status != 'pending' ORDER BY updated_at LIMIT ?)",
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}

function counterStatement(db: D1Database, campaignId: string, column: string): D1PreparedStatement {
	// changes(): the rows the ledger statement just before this one moved, in the same transaction.
	return db
		.prepare(`UPDATE email_campaigns SET ${column} = ${column} + changes() WHERE campaign_id = ?`)
		.bind(campaignId);
}
