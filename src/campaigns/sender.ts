import type { EmailEnv } from "../email/types";
import { z } from "zod";
import { takeTokens } from "../gateway/limiter/service";
import { sendEmailBatch } from "../email/provider";
import type { KeyedMessage, MessageResult } from "../email/types";
import { PROVIDER_BATCH_SIZE } from "../email/types";
import { sleep } from "../platform/timeout";
import type { CampaignRow } from "./campaigns-db";
import { getCampaignForChain } from "./chains-db";
import { addSuppression, setStatusByEmail } from "./db";
import { backoffMs, CAMPAIGN_LIMITS, deliveryKey, MAX_SEND_CHAINS } from "./domain";
import type { ClaimedRow, Outcome } from "./ledger-db";
import { blockedEmails, claimRows, fillLedger, pendingState, recordOutcomes, releaseClaims } from "./ledger-db";
import { renderHtml, renderText } from "./template";
import { unsubscribeToken, unsubscribeUrl } from "./unsubscribe";

/**
 * One tick of a campaign's chain (a floodgate-email message): fills the ledger ahead of sending,
 * then claims, checks, renders and sends recipients in provider batches at the tenant's rate until
 * its time budget is spent. Returns what the chain does next: stop (finished, paused, stale), or
 * come back after `delayMs`.
 */

export const tickSchema = z.object({
	tenant_id: z.string().min(1),
	campaign_id: z.string().min(1),
	chain: z.string().min(1),
	/** Which of the campaign's send chains (0 when absent: chain 0, whose token is email_campaigns.chain). */
	shard: z
		.number()
		.int()
		.min(0)
		.max(MAX_SEND_CHAINS - 1)
		.optional(),
});
export type Tick = z.output<typeof tickSchema>;

export type TickResult =
	| { next: "stop"; finished: boolean }
	| { next: "again"; delayMs: number; backoffLevel: number; lastError: string | null };

/** Test seam: runs after the provider answered the tick's n-th batch (from 0), before the ledger records it (a crash there). */
export type TickHooks = { afterSend?: (batch: number) => void | Promise<void> };

const TICK_BUDGET_MS = 8_000;
const MAX_ROUNDS = 40;
const MIN_ROUNDS = 4;
const LEASE_MS = 60_000;
const MAX_INLINE_WAIT_MS = 2_000;

/**
 * `share` (0-1]: the part of the per-invocation budget this tick may use (the consumer runs the
 * ticks of a batch side by side, so each gets a share of the rounds: D1 queries stay under 1,000).
 */
export async function runTick(env: EmailEnv, tick: Tick, hooks: TickHooks = {}, share = 1): Promise<TickResult> {
	const deadline = Date.now() + TICK_BUDGET_MS;
	const rate = Number(env.EMAIL_SEND_RATE_PER_SECOND);
	const size = Math.max(1, Math.min(PROVIDER_BATCH_SIZE, rate));
	const rounds = Math.max(MIN_ROUNDS, Math.floor(MAX_ROUNDS * share));
	let batches = 0;
	for (let round = 0; round < rounds && Date.now() < deadline; round++) {
		const campaign = await getCampaignForChain(env.DB, tick.tenant_id, tick.campaign_id, tick.shard ?? 0);
		if (!campaign || campaign.status !== "sending" || campaign.shard_token !== tick.chain)
			return { next: "stop", finished: false };
		// Claim first, then take tokens for what was claimed: with several chains one often finds
		// nothing to claim, and tokens taken for an empty claim would be lost to every chain.
		const rows = await claimRows(env.DB, campaign.campaign_id, tick.chain, size, LEASE_MS, Date.now());
		if (rows.length === 0) {
			if (campaign.fill_done === 0) {
				await fillLedger(env.DB, tick.tenant_id, campaign, CAMPAIGN_LIMITS.fillChunk, Date.now());
				continue;
			}
			const pending = await pendingState(env.DB, campaign.campaign_id);
			if (pending.n === 0) return { next: "stop", finished: true };
			return again(Math.max(1000, (pending.nextAt ?? 0) - Date.now()), 0, null);
		}
		const wait = await takeSendTokens(env, tick.tenant_id, rate, size, rows.length, deadline);
		if (wait !== null) {
			// Given back untouched (no attempt counted), for whichever chain has tokens first.
			await releaseClaims(env.DB, campaign.campaign_id, tick.chain);
			return again(wait, 0, null);
		}
		const result = await sendRows(env, campaign, tick.chain, rows, batches++, hooks);
		if (result !== null) return result;
	}
	return again(0, 0, null);
}

/** Sends claimed rows; null when the batch was answered, else the chain's backoff. */
async function sendRows(
	env: EmailEnv,
	campaign: CampaignRow,
	chain: string,
	rows: ClaimedRow[],
	batchNo: number,
	hooks: TickHooks,
): Promise<TickResult | null> {
	const tenantId = campaign.tenant_id;
	const blocked = await blockedEmails(
		env.DB,
		tenantId,
		campaign.list_id,
		rows.map((r) => r.email),
	);
	const outcomes: Outcome[] = [];
	const sendable = rows.filter((r) => {
		const reason = blocked.get(r.email);
		if (reason !== undefined) outcomes.push({ kind: "suppressed", id: r.subscriber_id, reason });
		return reason === undefined;
	});
	const batch = await Promise.all(sendable.map((r) => messageFor(env, tenantId, campaign, r)));
	const answer = await sendEmailBatch(env, tenantId, batch);
	if (answer.kind !== "answered") {
		await releaseClaims(env.DB, campaign.campaign_id, chain);
		const level = campaign.backoff_level + 1;
		const delay =
			answer.kind === "throttled" ? answer.retryAfterMs : (answer.retryAfterMs ?? backoffMs(level, Math.random()));
		const reason = answer.kind === "throttled" ? "provider throttled (429)" : answer.reason;
		return again(delay, answer.kind === "throttled" ? campaign.backoff_level : level, reason);
	}
	await hooks.afterSend?.(batchNo);
	const now = Date.now();
	const feedback: D1PreparedStatement[] = [];
	sendable.forEach((row, i) => {
		const r: MessageResult = answer.results[i] ?? {
			status: "failed",
			reason: "no answer for this message",
			permanent: false,
		};
		outcomes.push(outcomeOf(row, r, Number(env.EMAIL_MAX_ATTEMPTS), now));
		if (r.status === "bounced" || (r.status === "sent" && r.complained === true)) {
			const status = r.status === "bounced" ? "bounced" : "complained";
			feedback.push(
				setStatusByEmail(env.DB, tenantId, row.email, status, now),
				addSuppression(env.DB, tenantId, row.email, status, now),
			);
		}
	});
	await recordOutcomes(env.DB, campaign.campaign_id, chain, outcomes, Number(env.EMAIL_MAX_ATTEMPTS), now);
	if (feedback.length > 0) await env.DB.batch(feedback);
	return null;
}

function outcomeOf(row: ClaimedRow, r: MessageResult, maxAttempts: number, now: number): Outcome {
	if (r.status === "sent") return { kind: "sent", id: row.subscriber_id, providerId: r.providerId };
	if (r.status === "bounced") return { kind: "bounced", id: row.subscriber_id, reason: r.reason };
	if (r.permanent) return { kind: "failed", id: row.subscriber_id, reason: r.reason };
	const attempt = Math.min(row.attempts + 1, maxAttempts);
	return {
		kind: "retry",
		id: row.subscriber_id,
		reason: r.reason,
		nextAttemptAt: now + backoffMs(attempt, Math.random()),
	};
}

async function messageFor(env: EmailEnv, tenantId: string, c: CampaignRow, row: ClaimedRow): Promise<KeyedMessage> {
	const token = await unsubscribeToken(env.EMAIL_UNSUBSCRIBE_SECRET, {
		tenantId,
		campaignId: c.campaign_id,
		subscriberId: row.subscriber_id,
	});
	const url = unsubscribeUrl(env.EMAIL_PUBLIC_URL, token);
	const vars = { first_name: row.first_name, last_name: row.last_name, email: row.email, unsubscribe_url: url };
	const key = deliveryKey(c.campaign_id, row.subscriber_id);
	return {
		idempotencyKey: key,
		message: {
			from: c.from_address,
			to: row.email,
			subject: renderText(c.subject, vars),
			text: renderText(c.text_body, vars),
			html: c.html_body === null ? undefined : renderHtml(c.html_body, vars),
			headers: {
				"List-Unsubscribe": `<${url}>`,
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
				"X-Floodgate-Delivery": key,
			},
			tags: { tenant: tenantId, campaign: c.campaign_id, subscriber: String(row.subscriber_id) },
		},
	};
}

/**
 * Takes `cost` tokens (the rows claimed, at most `size`) from the tenant's sending bucket (shared by every consumer through the
 * platform's limiter), waiting in place for short gaps; null when taken, else how long to come back after.
 */
async function takeSendTokens(
	env: EmailEnv,
	tenantId: string,
	rate: number,
	size: number,
	cost: number,
	deadline: number,
): Promise<number | null> {
	for (;;) {
		const outcome = await takeTokens(env.RATE_LIMITER, [
			{
				key: `email-send:${tenantId}`,
				policies: [
					{ name: "email_send", algorithm: "token_bucket", limit: rate, windowSeconds: 1, burst: Math.max(rate, size) },
				],
				cost,
				onFailure: "open",
			},
		]);
		if (outcome.allowed) return null;
		const wait = outcome.retryAfterMs ?? 1000;
		if (wait > MAX_INLINE_WAIT_MS || Date.now() + wait > deadline) return wait;
		await sleep(wait);
	}
}

function again(delayMs: number, backoffLevel: number, lastError: string | null): TickResult {
	return { next: "again", delayMs: Math.max(0, Math.round(delayMs)), backoffLevel, lastError };
}
