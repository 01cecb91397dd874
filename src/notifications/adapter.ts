import { z } from "zod";
import type { AttemptMessage, DeliveryAdapter, Exchange, OutboundRequest, PreparedDelivery } from "../delivery/engine";
import type { DeliveryRow, DeliveryStatus, NotificationRow } from "./db";
import { claimDelivery, findDelivery, findNotification, recordSandboxSms, setDeliveryStatus } from "./db";
import { recipientSchema } from "./schemas";
import { delayUntil, toPriority } from "./service";
import { sendEmail } from "../email/provider";
import type { BatchOutcome } from "../email/types";
import { takeTokens } from "../gateway/limiter/service";
import { transmitPush } from "./push-channel";

/**
 * Notifications on the delivery engine: one delivery per (notification, channel). Email goes
 * through the campaigns' provider adapter, SMS to the SMS provider (or its sandbox), in-app to the
 * user's NotificationInbox object. Each carries the idempotency key `notification:channel`, so a
 * retry after a lost answer is deduplicated by the provider, the sandbox or the inbox.
 */

const renderedSchema = z.record(z.string(), z.record(z.string(), z.string()));
const STATUS_AFTER: Record<"succeeded" | "dead" | "gone", DeliveryStatus> = {
	succeeded: "sent",
	dead: "failed",
	gone: "failed",
};

export const notificationAdapter: DeliveryAdapter = {
	async load(env, msg): Promise<PreparedDelivery | null> {
		const delivery = await findDelivery(env.DB, msg.tenant_id, msg.delivery_id);
		if (!delivery || delivery.status !== "queued" || delivery.attempts !== msg.attempt - 1) return null;
		const now = Date.now();
		if (delivery.deliver_at > now + 1_000) {
			await sendAttempt(env, msg, delivery, delayUntil(delivery.deliver_at, now));
			return null;
		}
		const notification = await findNotification(env.DB, msg.tenant_id, delivery.notification_id);
		if (!notification) {
			await setDeliveryStatus(
				env.DB,
				msg.tenant_id,
				delivery.id,
				{ status: "failed", reason: "expired" },
				["queued"],
				now,
			);
			return null;
		}
		if (msg.attempt === 1 && notification.priority !== "critical" && !(await withinRate(env, delivery, notification)))
			return null;
		const lane = { rateLimit: null, laneName: `notifications:${msg.tenant_id}:${delivery.channel}`, laneKey: null };
		// A real SMS provider is a plain HTTP POST: the engine's own exchange, the key as a header.
		if (delivery.channel === "sms" && env.NOTIFICATIONS_SMS_PROVIDER_URL !== "sandbox") {
			const sms = smsRequest(env, delivery, notification);
			return { ...lane, build: () => Promise.resolve(sms) };
		}
		return { ...lane, transmit: () => transmit(env, delivery, notification) };
	},

	claim: (env, msg, nowMs) => claimDelivery(env.DB, msg.tenant_id, msg.delivery_id, msg.attempt, nowMs),

	async record(env, msg, record, nowMs) {
		const { decision } = record;
		const delivery = await findDelivery(env.DB, msg.tenant_id, msg.delivery_id);
		if (!delivery) return;
		const lastError = record.error ?? (record.statusCode !== null ? `HTTP ${record.statusCode}` : null);
		if (decision.kind === "retry") {
			const deliverAt = nowMs + decision.delaySeconds * 1000;
			await setDeliveryStatus(
				env.DB,
				msg.tenant_id,
				delivery.id,
				{ status: "queued", lastError, deliverAt },
				["sending"],
				nowMs,
			);
			return;
		}
		const status =
			decision.kind === "succeeded" && delivery.channel === "in_app" ? "delivered" : STATUS_AFTER[decision.kind];
		const reason = decision.kind === "succeeded" ? null : decision.reason;
		await setDeliveryStatus(env.DB, msg.tenant_id, delivery.id, { status, reason, lastError }, ["sending"], nowMs);
	},

	async send(env, msg, delaySeconds) {
		const delivery = await findDelivery(env.DB, msg.tenant_id, msg.delivery_id);
		if (delivery) await sendAttempt(env, msg, delivery, delaySeconds);
	},

	nextMessage: () => Promise.resolve(null),
};

/** A delivery whose attempt message kept failing (the DLQ): failed, with the reason. */
export async function markDeliveryFailed(env: Env, msg: AttemptMessage, reason: string): Promise<void> {
	await setDeliveryStatus(
		env.DB,
		msg.tenant_id,
		msg.delivery_id,
		{ status: "failed", reason },
		["queued", "sending"],
		Date.now(),
	);
}

async function sendAttempt(env: Env, msg: AttemptMessage, delivery: DeliveryRow, delaySeconds: number): Promise<void> {
	await env.NOTIFICATIONS_QUEUE.send({ ...msg, priority: toPriority(delivery.priority) }, { delaySeconds });
}

/** Per user and channel; over the limit the delivery waits for its slot or is throttled, as configured. */
async function withinRate(env: Env, delivery: DeliveryRow, notification: NotificationRow): Promise<boolean> {
	const limit = Number(env.NOTIFICATIONS_RATE_LIMIT_PER_HOUR);
	const outcome = await takeTokens(env.RATE_LIMITER, [
		{
			key: `notifications:${notification.tenant_id}:${notification.user_id}:${delivery.channel}`,
			policies: [{ name: "notifications_user", algorithm: "token_bucket", limit, windowSeconds: 3_600, burst: limit }],
			cost: 1,
			onFailure: "open",
		},
	]);
	if (outcome.allowed) return true;
	const now = Date.now();
	// A plain string: operators (and the tests) set it to "delay" or "throttle".
	const mode: string = env.NOTIFICATIONS_RATE_LIMIT_MODE;
	if (mode === "throttle") {
		const reason = `over ${limit} ${delivery.channel} notifications per hour for this user`;
		await setDeliveryStatus(env.DB, delivery.tenant_id, delivery.id, { status: "throttled", reason }, ["queued"], now);
		return false;
	}
	const deliverAt = now + (outcome.retryAfterMs ?? 60_000);
	await setDeliveryStatus(env.DB, delivery.tenant_id, delivery.id, { status: "queued", deliverAt }, ["queued"], now);
	await sendAttempt(
		env,
		{ kind: "attempt", tenant_id: delivery.tenant_id, delivery_id: delivery.id, attempt: 1 },
		delivery,
		delayUntil(deliverAt, now),
	);
	return false;
}

function smsRequest(env: Env, delivery: DeliveryRow, notification: NotificationRow): OutboundRequest {
	const fields = renderedSchema.parse(JSON.parse(notification.content))[delivery.channel] ?? {};
	const recipient = recipientSchema.parse(JSON.parse(notification.recipient));
	return {
		url: env.NOTIFICATIONS_SMS_PROVIDER_URL,
		headers: { "idempotency-key": `${notification.id}:${delivery.channel}` },
		body: JSON.stringify({ to: recipient.phone ?? "", text: fields.text ?? "" }),
	};
}

async function transmit(env: Env, delivery: DeliveryRow, notification: NotificationRow): Promise<Exchange> {
	const started = Date.now();
	const key = `${notification.id}:${delivery.channel}`;
	const fields = renderedSchema.parse(JSON.parse(notification.content))[delivery.channel] ?? {};
	const recipient = recipientSchema.parse(JSON.parse(notification.recipient));
	const done = (status: number, error: string | null = null): Exchange => ({
		answer: { kind: "response", status, retryAfter: null },
		record: { statusCode: status, latencyMs: Date.now() - started, excerpt: null, error },
	});
	if (delivery.channel === "in_app") {
		await env.NOTIFICATION_INBOX.getByName(`${notification.tenant_id}:${notification.user_id}`).deliver({
			id: notification.id,
			category: notification.category,
			title: fields.title ?? "",
			body: fields.body ?? "",
			link: fields.link ?? null,
			created_at: notification.created_at,
		});
		return done(200);
	}
	if (delivery.channel === "sms") {
		if (env.NOTIFICATIONS_SMS_SANDBOX_ENABLED !== "true") return done(503, "the sandbox SMS provider is disabled");
		await recordSandboxSms(env.DB, notification.tenant_id, {
			idempotency_key: key,
			to_phone: recipient.phone ?? "",
			text: fields.text ?? "",
			created_at: Date.now(),
		});
		return done(200);
	}
	if (delivery.channel === "email") {
		const message = {
			from: env.NOTIFICATIONS_EMAIL_FROM,
			to: recipient.email ?? "",
			subject: fields.subject ?? "",
			text: fields.text ?? "",
			html: fields.html,
			headers: {},
			tags: { tenant: notification.tenant_id, notification: notification.id },
		};
		return emailExchange(await sendEmail(env, notification.tenant_id, message, key), started);
	}
	return transmitPush(env, delivery, notification, fields, recipient.push_subscriptions ?? []);
}

function emailExchange(outcome: BatchOutcome, started: number): Exchange {
	const latencyMs = Date.now() - started;
	const response = (status: number, retryAfterMs: number | null, error: string | null): Exchange => ({
		answer: {
			kind: "response",
			status,
			retryAfter: retryAfterMs === null ? null : String(Math.ceil(retryAfterMs / 1000)),
		},
		record: { statusCode: status, latencyMs, excerpt: null, error },
	});
	if (outcome.kind === "throttled") return response(429, outcome.retryAfterMs, "the email provider throttled");
	if (outcome.kind === "unavailable") return response(503, outcome.retryAfterMs, outcome.reason);
	const result = outcome.results[0];
	if (!result) return response(503, null, "the email provider answered nothing");
	if (result.status === "sent") return response(200, null, null);
	if (result.status === "failed" && !result.permanent) return response(502, null, result.reason);
	return {
		answer: { kind: "error", message: result.reason, refused: true },
		record: { statusCode: null, latencyMs, excerpt: null, error: result.reason },
	};
}
