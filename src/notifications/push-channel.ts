import type { Exchange } from "../delivery/engine";
import type { DeliveryRow, NotificationRow } from "./db";
import { markPushed, pushedEndpoints } from "./db";
import type { PushSubscription } from "./web-push";
import { MAX_PUSH_PAYLOAD_BYTES, encryptPayload, vapidAuthorization } from "./web-push";
import { policyFromEnv } from "../platform/destination";
import { safeFetch } from "../platform/safe-fetch";
import { errorText } from "../platform/log";

/**
 * The push channel: one encrypted message per subscription of the recipient, VAPID-signed. A
 * subscription that accepted it (2xx) is recorded, so a retry of the delivery sends only to the
 * others; 404/410 means the subscription is gone (done with it). Any other failure retries.
 */

const URGENCY: Record<string, string> = { critical: "high", high: "high", normal: "normal", low: "low" };
const PUSH_TIMEOUT_MS = 15_000;

export async function transmitPush(
	env: Env,
	delivery: DeliveryRow,
	notification: NotificationRow,
	fields: Record<string, string>,
	subscriptions: readonly PushSubscription[],
): Promise<Exchange> {
	const started = Date.now();
	const payload = new TextEncoder().encode(
		JSON.stringify({
			notification_id: notification.id,
			category: notification.category,
			title: fields.title,
			body: fields.body,
		}),
	);
	const record = (statusCode: number | null, error: string | null) => ({
		statusCode,
		latencyMs: Date.now() - started,
		excerpt: null,
		error,
	});
	if (payload.length > MAX_PUSH_PAYLOAD_BYTES)
		return {
			answer: { kind: "error", message: "the push payload is too large", refused: true },
			record: record(null, "payload too large"),
		};
	const done = await pushedEndpoints(env.DB, delivery.id);
	let gone = 0;
	let failure: Exchange | null = null;
	for (const sub of subscriptions) {
		if (done.has(sub.endpoint)) continue;
		try {
			const res = await safeFetch(sub.endpoint, {
				method: "POST",
				headers: {
					"content-type": "application/octet-stream",
					"content-encoding": "aes128gcm",
					ttl: "86400",
					urgency: URGENCY[notification.priority] ?? "normal",
					authorization: await vapidAuthorization(
						env.NOTIFICATIONS_VAPID_PRIVATE_JWK,
						env.NOTIFICATIONS_VAPID_SUBJECT,
						sub.endpoint,
						Date.now(),
					),
				},
				body: await encryptPayload(sub, payload),
				policy: policyFromEnv(env),
				timeoutMs: PUSH_TIMEOUT_MS,
				maxResponseBytes: 1_024,
			});
			if (res.status >= 200 && res.status < 300) await markPushed(env.DB, delivery.id, sub.endpoint, Date.now());
			else if (res.status === 404 || res.status === 410) gone++;
			else
				failure ??= {
					answer: { kind: "response", status: res.status, retryAfter: res.headers.get("retry-after") },
					record: record(res.status, `the push service answered ${res.status}`),
				};
		} catch (err) {
			const message = errorText(err);
			failure ??= { answer: { kind: "error", message, refused: false }, record: record(null, message.slice(0, 500)) };
		}
	}
	if (failure) return failure;
	if (gone === subscriptions.length)
		return {
			answer: { kind: "response", status: 410, retryAfter: null },
			record: record(410, "every subscription is gone"),
		};
	return { answer: { kind: "response", status: 201, retryAfter: null }, record: record(201, null) };
}
