import type { Channel, Preferences, Priority } from "./domain";
import {
	CHANNELS,
	DEFAULT_PREFERENCES,
	channelAllowed,
	missingVariables,
	quietHoursEnd,
	renderChannels,
} from "./domain";
import type { DeliveryRow } from "./db";
import { deliveriesOf, findByIdempotencyKey, findPreferences, findTemplate, insertNotification } from "./db";
import type { NotificationMessage, SendInput } from "./schemas";
import { channelContentSchema, preferencesSchema } from "./schemas";
import { AppError } from "../platform/errors";
import { newId } from "../platform/crypto";
import { MAX_DELAY_SECONDS } from "../delivery/schedule";
import { collectIntoDigests } from "./digest-collect";

/** Sending a notification: render, apply preferences and quiet hours, store, enqueue its channels. */

export type SendResult = { notificationId: string; duplicate: boolean };

/** Renders and stores the notification with one delivery per channel, then enqueues them (202 after). */
export async function sendNotification(
	env: Env,
	tenantId: string,
	input: SendInput,
	now = Date.now(),
): Promise<SendResult> {
	if (input.idempotency_key !== undefined) {
		const prior = await findByIdempotencyKey(env.DB, tenantId, input.idempotency_key);
		if (prior) return resume(env, tenantId, prior.id);
	}
	const template = await findTemplate(env.DB, tenantId, input.template);
	if (!template) throw new AppError(404, "template_not_found", `No notification template '${input.template}'.`);
	const content = channelContentSchema.parse(JSON.parse(template.channels));
	const channels = chooseChannels(input, Object.keys(content));
	const missing = missingVariables(content, channels, input.data);
	if (missing.length > 0) {
		throw new AppError(400, "missing_variables", `The data lacks variables the template uses: ${missing.join(", ")}.`, {
			variables: missing,
		});
	}
	const rendered = renderChannels(content, channels, input.data);
	const prefs = await loadPreferences(env, tenantId, input.recipient.user_id);
	const id = newId("ntf");
	const deliveries = plan(tenantId, id, template.category, input, channels, prefs, now);
	const digests = await collectIntoDigests(prefs, template.category, input.recipient.user_id, deliveries, now);
	const inserted = await insertNotification(
		env.DB,
		{
			id,
			tenant_id: tenantId,
			user_id: input.recipient.user_id,
			template_key: input.template,
			category: template.category,
			priority: input.priority,
			idempotency_key: input.idempotency_key ?? null,
			recipient: JSON.stringify(input.recipient),
			content: JSON.stringify(rendered),
			created_at: now,
		},
		deliveries,
		digests,
	);
	if (!inserted && input.idempotency_key !== undefined) {
		const winner = await findByIdempotencyKey(env.DB, tenantId, input.idempotency_key);
		if (winner) return resume(env, tenantId, winner.id);
	}
	// A digest that closed meanwhile leaves its delivery queued on its own: what to enqueue is what was stored.
	await enqueue(env, digests.length > 0 ? await deliveriesOf(env.DB, tenantId, id) : deliveries, now);
	return { notificationId: id, duplicate: false };
}

/**
 * A notice the platform itself sends to a tenant's user (accounts' security notices): already
 * rendered, email only, priority critical (so preferences, quiet hours, digests and the per-user
 * rate limit never hold it back), stored and enqueued like every notification. A repeated
 * `idempotencyKey` answers the first notice and enqueues its deliveries that never started, so a
 * caller whose enqueue failed may simply call again.
 */
export async function sendPlatformNotice(
	env: Env,
	tenantId: string,
	notice: { userId: string; email: string; kind: string; idempotencyKey: string; subject: string; text: string },
	now = Date.now(),
): Promise<SendResult> {
	const prior = await findByIdempotencyKey(env.DB, tenantId, notice.idempotencyKey);
	if (prior) return resume(env, tenantId, prior.id);
	const input: SendInput = {
		recipient: { user_id: notice.userId, email: notice.email },
		template: `platform.${notice.kind}`,
		data: {},
		channels: ["email"],
		priority: "critical",
		idempotency_key: notice.idempotencyKey,
	};
	const id = newId("ntf");
	const category = "account_security";
	const deliveries = plan(tenantId, id, category, input, ["email"], DEFAULT_PREFERENCES, now);
	const rendered = { email: { subject: notice.subject, text: notice.text } };
	const inserted = await insertNotification(
		env.DB,
		{
			id,
			tenant_id: tenantId,
			user_id: notice.userId,
			template_key: input.template,
			category,
			priority: input.priority,
			idempotency_key: notice.idempotencyKey,
			recipient: JSON.stringify(input.recipient),
			content: JSON.stringify(rendered),
			created_at: now,
		},
		deliveries,
	);
	if (!inserted) {
		const winner = await findByIdempotencyKey(env.DB, tenantId, notice.idempotencyKey);
		if (winner) return resume(env, tenantId, winner.id);
	}
	await enqueue(env, deliveries, now);
	return { notificationId: id, duplicate: false };
}

export async function loadPreferences(env: Env, tenantId: string, userId: string): Promise<Preferences> {
	const row = await findPreferences(env.DB, tenantId, userId);
	return row ? preferencesSchema.parse(JSON.parse(row.preferences)) : DEFAULT_PREFERENCES;
}

/** Enqueues the first attempt of each queued delivery, delayed to its deliver_at (≤ 12 h; re-enqueued after). */
export async function enqueue(
	env: Env,
	deliveries: readonly Pick<DeliveryRow, "tenant_id" | "id" | "status" | "attempts" | "deliver_at" | "priority">[],
	now: number,
): Promise<void> {
	const queued = deliveries.filter((d) => d.status === "queued" && d.attempts === 0);
	if (queued.length === 0) return;
	await env.NOTIFICATIONS_QUEUE.sendBatch(
		queued.map((d) => ({
			body: {
				kind: "attempt",
				tenant_id: d.tenant_id,
				delivery_id: d.id,
				attempt: 1,
				priority: toPriority(d.priority),
			} satisfies NotificationMessage,
			delaySeconds: delayUntil(d.deliver_at, now),
		})),
	);
}

export function delayUntil(at: number, now: number): number {
	return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
}

export function toPriority(text: string): Priority {
	return text === "critical" || text === "high" || text === "low" ? text : "normal";
}

/**
 * A repeated idempotency key: the first notification's id. Its deliveries that never started are
 * enqueued again (the first request may have stored them and failed before enqueuing: nothing
 * acknowledged is lost; the attempt's compare-and-set keeps a second message from sending twice).
 */
async function resume(env: Env, tenantId: string, id: string): Promise<SendResult> {
	await enqueue(env, await deliveriesOf(env.DB, tenantId, id), Date.now());
	return { notificationId: id, duplicate: true };
}

function chooseChannels(input: SendInput, available: readonly string[]): Channel[] {
	const has = (c: Channel) => available.includes(c);
	const { recipient } = input;
	const address: Record<Channel, boolean> = {
		email: recipient.email !== undefined,
		sms: recipient.phone !== undefined,
		push: (recipient.push_subscriptions ?? []).length > 0,
		in_app: true,
	};
	if (input.channels === undefined) return CHANNELS.filter((c) => has(c) && address[c]);
	for (const c of input.channels) {
		if (!has(c)) throw new AppError(400, "channel_not_in_template", `The template has no ${c} content.`);
		if (!address[c]) throw new AppError(400, "missing_address", `The recipient has no address for ${c}.`);
	}
	return [...new Set(input.channels)];
}

function plan(
	tenantId: string,
	notificationId: string,
	category: string,
	input: SendInput,
	channels: readonly Channel[],
	prefs: Preferences,
	now: number,
): DeliveryRow[] {
	const critical = input.priority === "critical";
	const after = input.deliver_after ? Date.parse(input.deliver_after) : now;
	// Critical notifications bypass preferences and quiet hours.
	const quietEnd = critical ? null : quietHoursEnd(prefs.quiet_hours, Math.max(now, after));
	return channels.map((channel): DeliveryRow => {
		const suppressed = !critical && !channelAllowed(prefs, category, channel);
		return {
			id: newId("ndl"),
			tenant_id: tenantId,
			notification_id: notificationId,
			channel,
			priority: input.priority,
			status: suppressed ? "suppressed" : "queued",
			attempts: 0,
			deliver_at: Math.max(now, after, quietEnd ?? 0),
			reason: suppressed
				? `the user opted out of ${channel} for ${category}`
				: quietEnd !== null
					? "delayed to the end of the user's quiet hours"
					: null,
			last_error: null,
			updated_at: now,
			digest_id: null,
		};
	});
}
