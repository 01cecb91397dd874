import type { EmailEnv } from "../email/types";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { log } from "../platform/log";
import type { CampaignRow } from "./campaigns-db";
import {
	finishCampaign,
	getCampaign,
	moveCampaign,
	passChain,
	recentCampaigns,
	reopenCampaign,
	stalledCampaigns,
} from "./campaigns-db";
import { dropChains, finishFromExtraChain, installChains, passExtraChain, stalledChains } from "./chains-db";
import { addSuppression, countByStatus, recipientEmail, setStatusByEmail } from "./db";
import type { CampaignStatus } from "./domain";
import { finalStatus, progressOf, sendChains, transition } from "./domain";
import { markBounced, retryDeadLetters } from "./ledger-db";
import type { Tick, TickResult } from "./sender";
import type { UnsubscribeTarget } from "./unsubscribe";
import { publishEvent } from "../webhooks/service";

/** Campaign state changes and the tick chain around the sender (src/campaigns/sender.ts). */

type Verb = "send" | "pause" | "resume" | "cancel";

/** A sending campaign whose chain has not moved for this long lost its tick: the sweeper restarts it. */
const STALL_MS = 10 * 60_000;
const MAX_DELAY_SECONDS = 43_200;
const DEAD_LETTER_RETRY_LIMIT = 10_000;

/**
 * Applies a verb (idempotent: repeating it answers the current state); throws 404, 409 for a verb
 * the status does not allow, 422 `list_empty` for sending to a list without subscribed addresses.
 */
export async function changeCampaign(env: Env, tenantId: string, campaignId: string, verb: Verb): Promise<CampaignRow> {
	const campaign = await requireCampaign(env, tenantId, campaignId);
	const to = transition(verb, campaign.status);
	if (to === "conflict") {
		throw new AppError(409, "invalid_campaign_state", `Cannot ${verb} a campaign that is ${campaign.status}.`, {
			status: campaign.status,
		});
	}
	if (to === "noop") return campaign;
	const now = Date.now();
	const chain = to === "sending" ? newId("chn") : null;
	let total: number | null = null;
	if (verb === "send") {
		total = (await countByStatus(env.DB, tenantId, campaign.list_id)).subscribed ?? 0;
		if (total === 0) throw new AppError(422, "list_empty", "The campaign's list has no subscribed addresses.");
	}
	const moved = await moveCampaign(env.DB, tenantId, campaignId, campaign.status, to, chain, now, total);
	// Lost a race with another verb: answer what the campaign is now.
	if (!moved) return requireCampaign(env, tenantId, campaignId);
	if (chain !== null) await startChains(env, tenantId, campaignId, chain);
	else await dropChains(env.DB, campaignId);
	log.info("campaign state changed", { tenant_id: tenantId, campaign_id: campaignId, from: campaign.status, to });
	return requireCampaign(env, tenantId, campaignId);
}

/** The tenant's `limit` most recently changed campaigns with progress, rate and ETA (the dashboard). */
export async function campaignProgress(env: Pick<Env, "DB">, tenantId: string, limit: number, now: number) {
	const rows = await recentCampaigns(env.DB, tenantId, limit);
	return rows.map((c) => ({
		campaign_id: c.campaign_id,
		name: c.name,
		status: c.status,
		total: c.total,
		sent: c.sent,
		failed: c.failed + c.bounced,
		...progressOf(c, now),
	}));
}

export async function requireCampaign(env: Env, tenantId: string, campaignId: string): Promise<CampaignRow> {
	const campaign = await getCampaign(env.DB, tenantId, campaignId);
	if (!campaign) throw new AppError(404, "not_found", `No campaign ${campaignId}.`);
	return campaign;
}

/**
 * What the consumer does after a tick: the next tick is enqueued before the chain is handed to it
 * (a crash in between leaves the old tick to be redelivered, which then hands over again; the
 * orphaned new tick is stale and dropped), or the campaign is finished.
 */
export async function continueChain(env: EmailEnv, tick: Tick, result: TickResult): Promise<void> {
	if (result.next === "stop") {
		if (result.finished) await finish(env, tick);
		return;
	}
	const next: Tick = { ...tick, chain: newId("chn") };
	await enqueueTick(env, next, result.delayMs);
	await handOver(env, tick, next.chain, result.backoffLevel, result.lastError);
}

/**
 * Starts a campaign's send chains: chain 0 holds `chain0` (email_campaigns.chain, set by the
 * caller); chains 1..K-1 (EMAIL_SEND_CHAINS) get fresh tokens, replacing every earlier one. Their
 * first ticks go in one sendBatch. All chains claim from the same ledger (leases keep their claims
 * apart) and take from the tenant's one send bucket, so K raises a campaign's rate toward the
 * limit, never past it.
 */
export async function startChains(env: EmailEnv, tenantId: string, campaignId: string, chain0: string): Promise<void> {
	const extra = Array.from({ length: sendChains(env.EMAIL_SEND_CHAINS) - 1 }, () => newId("chn"));
	await installChains(env.DB, campaignId, chain0, extra, Date.now());
	const ticks: Tick[] = [
		{ tenant_id: tenantId, campaign_id: campaignId, chain: chain0 },
		...extra.map((token, i) => ({ tenant_id: tenantId, campaign_id: campaignId, chain: token, shard: i + 1 })),
	];
	await env.EMAIL_QUEUE.sendBatch(ticks.map((body) => ({ body, contentType: "json" })));
}

/**
 * Called once, by the tick that moved a campaign to `sent` (or `failed`): publishes the platform
 * event `campaign.sent` or `campaign.failed` to the tenant's webhooks (publishEvent never throws).
 */
export async function onCampaignFinished(env: EmailEnv, campaign: CampaignRow): Promise<void> {
	await publishEvent(env, campaign.tenant_id, campaign.status === "sent" ? "campaign.sent" : "campaign.failed", {
		campaign_id: campaign.campaign_id,
		status: campaign.status,
		total: campaign.total,
		sent: campaign.sent,
		failed: campaign.failed,
		bounced: campaign.bounced,
		suppressed: campaign.suppressed,
	});
	log.info("campaign finished", {
		tenant_id: campaign.tenant_id,
		campaign_id: campaign.campaign_id,
		status: campaign.status,
		total: campaign.total,
		sent: campaign.sent,
		failed: campaign.failed,
		bounced: campaign.bounced,
		suppressed: campaign.suppressed,
	});
}

/** Dead letters of a campaign back to pending, the campaign back to sending when it had finished. */
export async function retryCampaignDeadLetters(env: Env, tenantId: string, campaignId: string): Promise<number> {
	const campaign = await requireCampaign(env, tenantId, campaignId);
	const retried = await retryDeadLetters(env.DB, campaignId, DEAD_LETTER_RETRY_LIMIT, Date.now());
	if (retried > 0 && (campaign.status === "sent" || campaign.status === "failed")) {
		const chain = newId("chn");
		if (await reopenCampaign(env.DB, tenantId, campaignId, chain, Date.now()))
			await startChains(env, tenantId, campaignId, chain);
	}
	return retried;
}

/** A one-click unsubscribe: the subscriber's status and the tenant's suppression list. */
export async function unsubscribe(env: Env, target: UnsubscribeTarget): Promise<boolean> {
	const email = await recipientEmail(env.DB, target.tenantId, target.campaignId, target.subscriberId);
	if (email === null) return false;
	const now = Date.now();
	await env.DB.batch([
		setStatusByEmail(env.DB, target.tenantId, email, "unsubscribed", now),
		addSuppression(env.DB, target.tenantId, email, "unsubscribed", now),
	]);
	return true;
}

export type Feedback = {
	kind: "bounced" | "complained";
	tenantId: string;
	email: string;
	campaignId: string | null;
	subscriberId: number | null;
};

/** A provider's bounce or complaint: suppression, subscriber status, and a bounce moves the ledger row. */
export async function applyFeedback(env: Env, f: Feedback): Promise<void> {
	const now = Date.now();
	const statements = [
		setStatusByEmail(env.DB, f.tenantId, f.email, f.kind, now),
		addSuppression(env.DB, f.tenantId, f.email, f.kind, now),
	];
	if (f.kind === "bounced" && f.campaignId !== null && f.subscriberId !== null) {
		const campaign = await getCampaign(env.DB, f.tenantId, f.campaignId);
		if (campaign) statements.push(...markBounced(env.DB, f.campaignId, f.subscriberId, "provider: hard bounce", now));
	}
	await env.DB.batch(statements);
}

/** Cron: send chains that stalled (a tick lost past its retries), chain 0 or an extra one, get a new token. */
export async function restartStalledCampaigns(env: Env, now: number): Promise<{ restarted: number }> {
	let restarted = 0;
	const stalled: Tick[] = [
		...(await stalledCampaigns(env.DB, now - STALL_MS, 50)).flatMap((c) =>
			c.chain === null ? [] : [{ tenant_id: c.tenant_id, campaign_id: c.campaign_id, chain: c.chain }],
		),
		...(await stalledChains(env.DB, now - STALL_MS, 50)).map((c) => ({
			tenant_id: c.tenant_id,
			campaign_id: c.campaign_id,
			chain: c.token,
			shard: c.shard,
		})),
	];
	for (const tick of stalled) {
		const next: Tick = { ...tick, chain: newId("chn") };
		await enqueueTick(env, next, 0);
		if (await handOver(env, tick, next.chain, 0, "chain restarted by the sweeper")) restarted++;
	}
	return { restarted };
}

/** A dead-lettered tick: if it still holds its chain, a new tick of that chain starts in a minute. */
export async function restartChain(env: Env, tick: Tick, reason: string): Promise<void> {
	const next: Tick = { ...tick, chain: newId("chn") };
	await enqueueTick(env, next, 60_000);
	await handOver(env, tick, next.chain, 0, reason);
}

export async function enqueueTick(env: EmailEnv, tick: Tick, delayMs: number): Promise<void> {
	const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
	await env.EMAIL_QUEUE.send(tick, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Passes a tick's chain to `to` (compare-and-set on the tick's token); false when the tick no longer held it. */
function handOver(
	env: Pick<Env, "DB">,
	tick: Tick,
	to: string,
	backoffLevel: number,
	lastError: string | null,
): Promise<boolean> {
	const now = Date.now();
	const shard = tick.shard ?? 0;
	if (shard > 0) return passExtraChain(env.DB, tick.campaign_id, shard, tick.chain, to, now);
	return passChain(env.DB, tick.campaign_id, tick.chain, to, backoffLevel, lastError, now);
}

/** Whichever chain sees nothing pending finishes the campaign (once: a compare-and-set on its token). */
async function finish(env: EmailEnv, tick: Tick): Promise<void> {
	const campaign = await getCampaign(env.DB, tick.tenant_id, tick.campaign_id);
	if (!campaign) return;
	const status = finalStatus(campaign);
	const shard = tick.shard ?? 0;
	const now = Date.now();
	const moved =
		shard > 0
			? await finishFromExtraChain(env.DB, tick.campaign_id, shard, tick.chain, status, now)
			: await finishCampaign(env.DB, tick.campaign_id, tick.chain, status, now);
	if (!moved) return;
	if (shard === 0) await dropChains(env.DB, tick.campaign_id);
	const finished: CampaignRow = { ...campaign, status: status satisfies CampaignStatus };
	await onCampaignFinished(env, finished);
}
