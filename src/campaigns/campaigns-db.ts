import type { CampaignStatus } from "./domain";

/** Campaign rows (D1). Counters move in the same transaction as the ledger rows they count. */

export type CampaignRow = {
	tenant_id: string;
	campaign_id: string;
	name: string;
	list_id: string;
	from_address: string;
	subject: string;
	text_body: string;
	html_body: string | null;
	status: CampaignStatus;
	total: number;
	sent: number;
	failed: number;
	bounced: number;
	suppressed: number;
	fill_cursor: number;
	fill_done: number;
	chain: string | null;
	backoff_level: number;
	last_error: string | null;
	created_at: number;
	started_at: number | null;
	finished_at: number | null;
	updated_at: number;
};

export type NewCampaign = Pick<
	CampaignRow,
	"campaign_id" | "name" | "list_id" | "from_address" | "subject" | "text_body" | "html_body" | "created_at"
>;

export async function insertCampaign(db: D1Database, tenantId: string, c: NewCampaign): Promise<void> {
	await db
		.prepare(
			`INSERT INTO email_campaigns (tenant_id, campaign_id, name, list_id, from_address, subject, text_body, html_body, status, created_at, updated_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?)`,
		)
		.bind(
			tenantId,
			c.campaign_id,
			c.name,
			c.list_id,
			c.from_address,
			c.subject,
			c.text_body,
			c.html_body,
			c.created_at,
			c.created_at,
		)
		.run();
}

export async function getCampaign(db: D1Database, tenantId: string, campaignId: string): Promise<CampaignRow | null> {
	return db
		.prepare("SELECT * FROM email_campaigns WHERE tenant_id = ? AND campaign_id = ?")
		.bind(tenantId, campaignId)
		.first<CampaignRow>();
}

export async function listCampaigns(
	db: D1Database,
	tenantId: string,
	after: string,
	limit: number,
): Promise<CampaignRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM email_campaigns WHERE tenant_id = ? AND campaign_id > ? ORDER BY campaign_id LIMIT ?")
		.bind(tenantId, after, limit)
		.all<CampaignRow>();
	return results;
}

/** The tenant's most recently changed campaigns (the dashboard's panel), newest first. */
export async function recentCampaigns(db: D1Database, tenantId: string, limit: number): Promise<CampaignRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM email_campaigns WHERE tenant_id = ? ORDER BY updated_at DESC, campaign_id LIMIT ?")
		.bind(tenantId, limit)
		.all<CampaignRow>();
	return results;
}

/** Edits a draft (null fields keep their value); false when the campaign is not a draft. */
export async function updateDraft(
	db: D1Database,
	tenantId: string,
	campaignId: string,
	fields: { name: string | null; subject: string | null; text_body: string | null; html_body: string | null },
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_campaigns SET name = COALESCE(?, name), subject = COALESCE(?, subject), text_body = COALESCE(?, text_body),
 html_body = COALESCE(?, html_body), updated_at = ? WHERE tenant_id = ? AND campaign_id = ? AND status = 'draft'`,
		)
		.bind(fields.name, fields.subject, fields.text_body, fields.html_body, now, tenantId, campaignId)
		.run();
	return result.meta.changes > 0;
}

export async function deleteDraft(db: D1Database, tenantId: string, campaignId: string): Promise<boolean> {
	const result = await db
		.prepare("DELETE FROM email_campaigns WHERE tenant_id = ? AND campaign_id = ? AND status IN ('draft', 'cancelled')")
		.bind(tenantId, campaignId)
		.run();
	return result.meta.changes > 0;
}

/**
 * Moves a campaign from `from` to `to` (compare-and-set) and installs a new tick chain (null stops
 * it); `started` sets started_at (first send) and total. True when this call made the move.
 */
export async function moveCampaign(
	db: D1Database,
	tenantId: string,
	campaignId: string,
	from: CampaignStatus,
	to: CampaignStatus,
	chain: string | null,
	now: number,
	total: number | null = null,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_campaigns SET status = ?, chain = ?, backoff_level = 0, updated_at = ?,
 started_at = CASE WHEN ? IS NOT NULL THEN ? ELSE started_at END, total = COALESCE(?, total)
 WHERE tenant_id = ? AND campaign_id = ? AND status = ?`,
		)
		.bind(to, chain, now, total, now, total, tenantId, campaignId, from)
		.run();
	return result.meta.changes > 0;
}

/** Hands the campaign's chain from one tick to the next; false when `from` is no longer the chain. */
export async function passChain(
	db: D1Database,
	campaignId: string,
	from: string,
	to: string,
	backoffLevel: number,
	lastError: string | null,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_campaigns SET chain = ?, backoff_level = ?, last_error = COALESCE(?, last_error), updated_at = ?
 WHERE campaign_id = ? AND chain = ? AND status = 'sending'`,
		)
		.bind(to, backoffLevel, lastError, now, campaignId, from)
		.run();
	return result.meta.changes > 0;
}

/** Sets the final status of a sending campaign whose chain is `chain`; true when this call did. */
export async function finishCampaign(
	db: D1Database,
	campaignId: string,
	chain: string,
	status: "sent" | "failed",
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_campaigns SET status = ?, chain = NULL, finished_at = ?, updated_at = ?
 WHERE campaign_id = ? AND chain = ? AND status = 'sending'`,
		)
		.bind(status, now, now, campaignId, chain)
		.run();
	return result.meta.changes > 0;
}

/** Sending campaigns whose chain has not moved since `before` (a lost tick): the sweeper restarts them. */
export async function stalledCampaigns(
	db: D1Database,
	before: number,
	limit: number,
): Promise<{ tenant_id: string; campaign_id: string; chain: string | null }[]> {
	const { results } = await db
		.prepare(
			"SELECT tenant_id, campaign_id, chain FROM email_campaigns WHERE status = 'sending' AND updated_at < ? ORDER BY updated_at LIMIT ?",
		)
		.bind(before, limit)
		.all<{ tenant_id: string; campaign_id: string; chain: string | null }>();
	return results;
}

/** A finished campaign goes back to sending (its dead letters retried) with a new chain. */
export async function reopenCampaign(
	db: D1Database,
	tenantId: string,
	campaignId: string,
	chain: string,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_campaigns SET status = 'sending', chain = ?, finished_at = NULL, backoff_level = 0, updated_at = ?
 WHERE tenant_id = ? AND campaign_id = ? AND status IN ('sent', 'failed')`,
		)
		.bind(chain, now, tenantId, campaignId)
		.run();
	return result.meta.changes > 0;
}
