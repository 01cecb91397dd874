import { z } from "zod";
import type { DeliveryRow, NewDelivery } from "./delivery-db";
import { markFannedOut } from "./sweep-db";
import { findEvent, findEventByKey, insertDeliveries, insertEvent, readPayload, unsentDeliveries } from "./delivery-db";
import type { Subscriber } from "./endpoints";
import { subscribersOf } from "./endpoints";
import { MAX_PAYLOAD_BYTES, laneKeyOf, splitPayload, subscribes } from "./domain";
import type { AttemptMessage } from "../delivery/engine";
import { AppError } from "../platform/errors";
import { newId, sha256Hex } from "../platform/crypto";
import { errorText, log } from "../platform/log";
import { groupForSendBatch } from "../platform/queue-limits";

/**
 * Publishing: an event is stored (payload in parts, for replay), then one fan-out message makes a
 * delivery per subscribed endpoint and an attempt message per delivery (src/delivery/engine.ts).
 */

export const fanoutMessageSchema = z.object({
	kind: z.literal("fanout"),
	tenant_id: z.string().min(1).max(64),
	event_id: z.string().min(1).max(64),
	/** Only these endpoints (a test event, a replay, endpoint.disabled to the others); all subscribers otherwise. */
	endpoint_ids: z.array(z.string().max(64)).max(100).optional(),
	/** Set for replays: new deliveries even where the event was delivered before. */
	replay: z.boolean().optional(),
});
export type FanoutMessage = z.infer<typeof fanoutMessageSchema>;
export type WebhookQueueMessage = FanoutMessage | AttemptMessage;

/** What publishing needs: every feature can publish, whatever its own view of Env's settings. */
export type EventEnv = Pick<Env, "DB" | "WEBHOOKS_QUEUE">;

export type StoredEvent = { eventId: string; duplicate: boolean };

/**
 * The platform's own events (job.completed, payment.failed…): cheap when no enabled endpoint of
 * the tenant subscribes (an isolate cache answers), and never throws: a failure is logged, the
 * caller's write goes on.
 */
export async function publishEvent(
	env: EventEnv,
	tenantId: string,
	type: string,
	payload: unknown,
): Promise<string | null> {
	try {
		const subscribers = await subscribersOf(env, tenantId);
		if (!subscribers.some((s) => subscribes(s.subscriptions, type))) return null;
		return (await storeEvent(env, tenantId, type, payload, null)).eventId;
	} catch (err) {
		log.error("webhook event not published", { tenant_id: tenantId, type, error: errorText(err) });
		return null;
	}
}

/**
 * Stores an event and enqueues its fan-out. A repeated idempotency key answers the first event's
 * id (and enqueues its fan-out again, which adds only what is missing).
 */
export async function storeEvent(
	env: EventEnv,
	tenantId: string,
	type: string,
	payload: unknown,
	idempotencyKey: string | null,
	endpointIds?: string[],
): Promise<StoredEvent> {
	const text = JSON.stringify(payload);
	if (new TextEncoder().encode(text).byteLength > MAX_PAYLOAD_BYTES) {
		throw new AppError(400, "payload_too_large", `An event payload is at most ${MAX_PAYLOAD_BYTES} bytes of JSON.`, {
			max_bytes: MAX_PAYLOAD_BYTES,
		});
	}
	const parts = splitPayload(text);
	const eventId = newId("evt");
	const row = {
		id: eventId,
		tenant_id: tenantId,
		type,
		idempotency_key: idempotencyKey,
		payload_parts: parts.length,
		created_at: Date.now(),
	};
	let stored = await insertEvent(env.DB, row, parts);
	let id = eventId;
	if (!stored && idempotencyKey !== null) {
		const first = await findEventByKey(env.DB, tenantId, idempotencyKey);
		if (!first) throw new Error("event insert conflicted but no event holds the key");
		id = first.id;
	} else if (!stored) throw new Error("event insert changed nothing");
	await sendMessages(env, [
		{ kind: "fanout", tenant_id: tenantId, event_id: id, ...(endpointIds ? { endpoint_ids: endpointIds } : {}) },
	]);
	stored = id === eventId;
	return { eventId: id, duplicate: !stored };
}

/** A fan-out message: the deliveries of an event and their first attempts. Idempotent. */
export async function fanOut(env: Env, msg: FanoutMessage, now = Date.now()): Promise<number> {
	const event = await findEvent(env.DB, msg.tenant_id, msg.event_id);
	if (!event) return 0;
	const subscribers = await targets(env, msg, event.type);
	const payload = subscribers.some((s) => s.ordering_key !== null)
		? parsePayload(await readPayload(env.DB, msg.event_id))
		: null;
	const rows: NewDelivery[] = await Promise.all(
		subscribers.map(async (s) => ({
			id: msg.replay ? newId("dlv") : `dlv_${(await sha256Hex(`${msg.event_id}:${s.id}`)).slice(0, 24)}`,
			tenant_id: msg.tenant_id,
			event_id: msg.event_id,
			endpoint_id: s.id,
			origin_key: msg.replay ? null : `${msg.event_id}:${s.id}`,
			lane_key: laneKeyOf(s.ordering_key, payload),
		})),
	);
	await insertDeliveries(env.DB, rows, now);
	const unsent: DeliveryRow[] = await unsentDeliveries(env.DB, msg.tenant_id, msg.event_id);
	const wanted = new Set(rows.map((r) => r.id));
	const attempts: AttemptMessage[] = unsent
		.filter((d) => wanted.has(d.id))
		.map((d) => ({ kind: "attempt", tenant_id: d.tenant_id, delivery_id: d.id, attempt: 1 }));
	await sendMessages(env, attempts);
	await markFannedOut(env.DB, msg.tenant_id, msg.event_id, now);
	return attempts.length;
}

/** Re-sends events to the named endpoints or all their current subscribers, as new deliveries. */
export async function replayEvents(
	env: Env,
	tenantId: string,
	eventIds: readonly string[],
	endpointIds?: string[],
): Promise<void> {
	await sendMessages(
		env,
		eventIds.map((eventId) => ({
			kind: "fanout",
			tenant_id: tenantId,
			event_id: eventId,
			replay: true,
			...(endpointIds ? { endpoint_ids: endpointIds } : {}),
		})),
	);
}

export async function sendMessages(
	env: EventEnv,
	bodies: readonly WebhookQueueMessage[],
	delaySeconds = 0,
): Promise<void> {
	for (const group of groupForSendBatch(bodies)) {
		await env.WEBHOOKS_QUEUE.sendBatch(group.map((body) => ({ body, ...(delaySeconds > 0 ? { delaySeconds } : {}) })));
	}
}

/** The endpoints a fan-out goes to: named ones (enabled), or every enabled subscriber of the type. */
async function targets(env: Env, msg: FanoutMessage, type: string): Promise<Subscriber[]> {
	const all = await subscribersOf(env, msg.tenant_id);
	if (msg.endpoint_ids) {
		const named = new Set(msg.endpoint_ids);
		return all.filter((s) => named.has(s.id));
	}
	return all.filter((s) => subscribes(s.subscriptions, type));
}

function parsePayload(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}
