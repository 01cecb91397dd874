import { z } from "zod";
import type { DeliveryRow } from "./db";
import { deliveriesOf, findTemplate, insertNotification } from "./db";
import type { DigestRow } from "./digest-db";
import { digestItems, findDigest, markDigestSent, sealDigest, takeDueDigests } from "./digest-db";
import type { Channel, ChannelContent } from "./domain";
import { CHANNELS, quietHoursEnd } from "./domain";
import type { DigestItem } from "./digest-render";
import { renderDigest } from "./digest-render";
import type { DigestMessage } from "./schemas";
import { channelContentSchema } from "./schemas";
import { enqueue, loadPreferences } from "./service";
import { sha256Hex } from "../platform/crypto";
import { groupForSendBatch } from "../platform/queue-limits";

/**
 * Flushing digests (the per-minute cron puts due ones on the notifications queue; its consumer
 * flushes each): a digest whose window ended is sealed (compare-and-set:
 * no item joins it afterwards), rendered from its items and sent as one notification with one
 * delivery on its channel. That notification's id is derived from the digest's, and stored with
 * the idempotency key `digest:<id>`, so a flush that runs twice (a crash between its steps, two
 * crons overlapping) makes it once; its attempt's own compare-and-set sends it once. The digest is
 * marked sent only after the delivery is enqueued, so a crash before that is finished when the
 * queue retries the message or the cron re-sends it.
 */

export type DigestSweep = { enqueued: number };

/** Digests put on the queue per cron run (each flush is a message of its own). */
const SWEEP_BATCH = 500;
/** A digest still unsent this long after its message was sent is sent again (the flush is idempotent). */
const RESEND_AFTER_MS = 5 * 60_000;
/** Items read into one digest. */
const MAX_DIGEST_ITEMS = 500;
const renderedSchema = z.record(z.string(), z.record(z.string(), z.string()));

/**
 * The cron's part: every digest whose window ended goes on the notifications queue as a `digest`
 * message (one D1 statement marks and returns them; ≤ 5 sendBatch calls), so the flushes run in
 * the queue's consumers, each retried on its own, whatever their number.
 */
export async function enqueueDueDigests(env: Env, now = Date.now()): Promise<DigestSweep> {
	const due = await takeDueDigests(env.DB, now, now - RESEND_AFTER_MS, SWEEP_BATCH);
	const bodies: DigestMessage[] = due.map((d) => ({
		kind: "digest",
		tenant_id: d.tenant_id,
		digest_id: d.id,
		priority: "normal",
	}));
	for (const group of groupForSendBatch(bodies))
		await env.NOTIFICATIONS_QUEUE.sendBatch(group.map((body) => ({ body })));
	return { enqueued: due.length };
}

/** A `digest` message: flushes the digest unless it is unknown or sent already. */
export async function flushDigestMessage(env: Env, msg: DigestMessage): Promise<boolean> {
	const digest = await findDigest(env.DB, msg.tenant_id, msg.digest_id);
	if (!digest || digest.status === "sent") return false;
	return flushDigest(env, digest, Date.now());
}

/** Seals, renders, stores and enqueues one digest; true when it is now sent. Idempotent. */
export async function flushDigest(env: Env, digest: DigestRow, now: number): Promise<boolean> {
	const channel = CHANNELS.find((c): c is Channel => c === digest.channel);
	if (channel === undefined) return false;
	if (digest.status === "collecting" && !(await sealDigest(env.DB, digest.tenant_id, digest.id, now))) {
		const current = await findDigest(env.DB, digest.tenant_id, digest.id);
		if (current?.status !== "sealed") return false;
	}
	const items = await digestItems(env.DB, digest.tenant_id, digest.id, MAX_DIGEST_ITEMS);
	const newest = items.at(-1);
	if (!newest) {
		await markDigestSent(env.DB, digest.tenant_id, digest.id, null, now);
		return true;
	}
	const hash = (await sha256Hex(`digest:${digest.id}`)).slice(0, 24);
	const notificationId = `ntf_${hash}`;
	const fields = renderDigest(
		channel,
		digest.category,
		items.map((i) => itemFields(i.content, channel)),
		await digestTemplate(env, digest),
	);
	const prefs = await loadPreferences(env, digest.tenant_id, digest.user_id);
	const delivery: DeliveryRow = {
		id: `ndl_${hash}`,
		tenant_id: digest.tenant_id,
		notification_id: notificationId,
		channel,
		priority: "normal",
		status: "queued",
		attempts: 0,
		deliver_at: Math.max(now, quietHoursEnd(prefs.quiet_hours, now) ?? 0),
		reason: `a digest of ${items.length} ${digest.category} notification${items.length === 1 ? "" : "s"}`,
		last_error: null,
		updated_at: now,
		digest_id: null,
	};
	await insertNotification(
		env.DB,
		{
			id: notificationId,
			tenant_id: digest.tenant_id,
			user_id: digest.user_id,
			template_key: `digest.${digest.category}`,
			category: digest.category,
			priority: "normal",
			idempotency_key: `digest:${digest.id}`,
			recipient: newest.recipient,
			content: JSON.stringify({ [channel]: fields }),
			created_at: now,
		},
		[delivery],
	);
	// Whichever flush stored it, the delivery that exists is the one enqueued (only if not yet started).
	await enqueue(env, await deliveriesOf(env.DB, digest.tenant_id, notificationId), now);
	await markDigestSent(env.DB, digest.tenant_id, digest.id, notificationId, now);
	return true;
}

/** The tenant's `digest.<category>` template, when it has one. */
async function digestTemplate(env: Env, digest: DigestRow): Promise<ChannelContent | null> {
	const row = await findTemplate(env.DB, digest.tenant_id, `digest.${digest.category}`);
	return row ? channelContentSchema.parse(JSON.parse(row.channels)) : null;
}

function itemFields(content: string, channel: Channel): DigestItem {
	const parsed = renderedSchema.safeParse(JSON.parse(content));
	return (parsed.success ? parsed.data[channel] : undefined) ?? {};
}
