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
import { addSuppression, countByStatus, recipientEmail, setStatusByEmail } from "./db";
import type { CampaignStatus } from "./domain";
import { finalStatus, progressOf, transition } from "./domain";
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
	if (chain !== null) await enqueueTick(env, { tenant_id: tenantId, campaign_id: campaignId, chain }, 0);
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
	await passChain(env.DB, tick.campaign_id, tick.chain, next.chain, result.backoffLevel, result.lastError, Date.now());
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
		if (await reopenCampaign(env.DB, tenantId, campaignId, chain, Date.now())) {
			await enqueueTick(env, { tenant_id: tenantId, campaign_id: campaignId, chain }, 0);
		}
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

/** Cron: sending campaigns whose chain stalled (a tick lost past its retries) get a new chain. */
export async function restartStalledCampaigns(env: Env, now: number): Promise<{ restarted: number }> {
	let restarted = 0;
	for (const c of await stalledCampaigns(env.DB, now - STALL_MS, 50)) {
		if (c.chain === null) continue;
		const next: Tick = { tenant_id: c.tenant_id, campaign_id: c.campaign_id, chain: newId("chn") };
		await enqueueTick(env, next, 0);
		if (await passChain(env.DB, c.campaign_id, c.chain, next.chain, 0, "chain restarted by the sweeper", now))
			restarted++;
	}
	return { restarted };
}

/** A dead-lettered tick: if it still holds its campaign's chain, a new chain starts in a minute. */
export async function restartChain(env: Env, tick: Tick, reason: string): Promise<void> {
	const next: Tick = { ...tick, chain: newId("chn") };
	await enqueueTick(env, next, 60_000);
	await passChain(env.DB, tick.campaign_id, tick.chain, next.chain, 0, reason, Date.now());
}

export async function enqueueTick(env: EmailEnv, tick: Tick, delayMs: number): Promise<void> {
	const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
	await env.EMAIL_QUEUE.send(tick, delaySeconds > 0 ? { delaySeconds } : undefined);
}

async function finish(env: EmailEnv, tick: Tick): Promise<void> {
	const campaign = await getCampaign(env.DB, tick.tenant_id, tick.campaign_id);
	if (!campaign) return;
	const status = finalStatus(campaign);
	if (!(await finishCampaign(env.DB, tick.campaign_id, tick.chain, status, Date.now()))) return;
	const finished: CampaignRow = { ...campaign, status: status satisfies CampaignStatus };
	await onCampaignFinished(env, finished);
}
