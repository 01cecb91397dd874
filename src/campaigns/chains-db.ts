import type { CampaignRow } from "./campaigns-db";

/**
 * A campaign's extra send chains (D1 `email_send_chains`): chain 0's token is
 * `email_campaigns.chain`; chains 1..K-1 keep theirs here. Every hand-over is a compare-and-set on
 * the token, and only while the campaign is sending.
 */

export type ChainRef = { tenant_id: string; campaign_id: string; shard: number; token: string };

/** The campaign as a tick of chain `shard` sees it, with that chain's current token (null: none). */
export async function getCampaignForChain(
	db: D1Database,
	tenantId: string,
	campaignId: string,
	shard: number,
): Promise<(CampaignRow & { shard_token: string | null }) | null> {
	return db
		.prepare(
			`SELECT c.*, CASE WHEN ? = 0 THEN c.chain ELSE
 (SELECT token FROM email_send_chains s WHERE s.campaign_id = c.campaign_id AND s.shard = ?) END AS shard_token
 FROM email_campaigns c WHERE c.tenant_id = ? AND c.campaign_id = ?`,
		)
		.bind(shard, shard, tenantId, campaignId)
		.first<CampaignRow & { shard_token: string | null }>();
}

/** Replaces the campaign's extra chains by these tokens (chains 1..tokens.length), if it is sending with chain 0 `chain0`. */
export async function installChains(
	db: D1Database,
	campaignId: string,
	chain0: string,
	tokens: readonly string[],
	now: number,
): Promise<void> {
	await db.batch([
		db.prepare("DELETE FROM email_send_chains WHERE campaign_id = ?").bind(campaignId),
		db
			.prepare(
				`INSERT INTO email_send_chains (campaign_id, shard, token, updated_at)
 SELECT ?, j.key + 1, j.value, ? FROM json_each(?) j
 WHERE EXISTS (SELECT 1 FROM email_campaigns WHERE campaign_id = ? AND status = 'sending' AND chain = ?)`,
			)
			.bind(campaignId, now, JSON.stringify(tokens), campaignId, chain0),
	]);
}

/** Removes the campaign's extra chains (it stopped sending: their ticks are stale from now on). */
export async function dropChains(db: D1Database, campaignId: string): Promise<void> {
	await db.prepare("DELETE FROM email_send_chains WHERE campaign_id = ?").bind(campaignId).run();
}

/** Hands extra chain `shard` from one tick to the next; false when `from` no longer holds it or the campaign stopped. */
export async function passExtraChain(
	db: D1Database,
	campaignId: string,
	shard: number,
	from: string,
	to: string,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE email_send_chains SET token = ?, updated_at = ? WHERE campaign_id = ? AND shard = ? AND token = ?
 AND EXISTS (SELECT 1 FROM email_campaigns WHERE campaign_id = ? AND status = 'sending')`,
		)
		.bind(to, now, campaignId, shard, from, campaignId)
		.run();
	return result.meta.changes > 0;
}

/** Sets the final status of a sending campaign from extra chain `shard` holding `token`; true when this call did. */
export async function finishFromExtraChain(
	db: D1Database,
	campaignId: string,
	shard: number,
	token: string,
	status: "sent" | "failed",
	now: number,
): Promise<boolean> {
	const [moved] = await db.batch([
		db
			.prepare(
				`UPDATE email_campaigns SET status = ?, chain = NULL, finished_at = ?, updated_at = ?
 WHERE campaign_id = ? AND status = 'sending'
 AND EXISTS (SELECT 1 FROM email_send_chains WHERE campaign_id = ? AND shard = ? AND token = ?)`,
			)
			.bind(status, now, now, campaignId, campaignId, shard, token),
		db
			.prepare(
				"DELETE FROM email_send_chains WHERE campaign_id = ? AND (SELECT status FROM email_campaigns WHERE campaign_id = ?) != 'sending'",
			)
			.bind(campaignId, campaignId),
	]);
	return (moved?.meta.changes ?? 0) > 0;
}

/** Extra chains of sending campaigns that have not moved since `before` (a lost tick): the sweeper restarts them. */
export async function stalledChains(db: D1Database, before: number, limit: number): Promise<ChainRef[]> {
	const { results } = await db
		.prepare(
			`SELECT c.tenant_id, s.campaign_id, s.shard, s.token FROM email_send_chains s
 JOIN email_campaigns c ON c.campaign_id = s.campaign_id AND c.status = 'sending'
 WHERE s.updated_at < ? ORDER BY s.updated_at LIMIT ?`,
		)
		.bind(before, limit)
		.all<ChainRef>();
	return results;
}
