import type { AttemptMessage, AttemptRecord, DeliveryAdapter, PreparedDelivery } from "../delivery/engine";
import { startNextInLane } from "../delivery/engine";
import { claimDelivery, findDelivery, findEvent, finishDelivery, readPayload, recordAttempt } from "./delivery-db";
import type { DeliveryRow, DeliveryStatus, EventRow } from "./delivery-db";
import type { EndpointRow } from "./db";
import { findEndpoint, markEndpointOutcome } from "./db";
import type { AttemptWrite } from "./batch-db";
import { failingTooLong } from "./domain";
import { switchEndpoint } from "./endpoints";
import { signedHeaders } from "./secrets";
import { sendMessages, storeEvent } from "./service";
import { newId } from "../platform/crypto";
import { errorText, log } from "../platform/log";

/**
 * Webhooks on the delivery engine: what a delivery sends (the event's JSON, signed per Standard
 * Webhooks with the endpoint's live secrets and a fresh timestamp), and what an outcome does to the
 * endpoint (410 or 5 days of failures disable it and publish `endpoint.disabled` to the others).
 */

const STATUS_AFTER: Record<AttemptRecord["decision"]["kind"], DeliveryStatus> = {
	succeeded: "succeeded",
	retry: "pending",
	dead: "dead",
	gone: "dead",
};

export const webhookAdapter: DeliveryAdapter = {
	async load(env, msg): Promise<PreparedDelivery | null> {
		return prepareDelivery(env, msg, await findDelivery(env.DB, msg.tenant_id, msg.delivery_id), {
			endpoint: (id) => findEndpoint(env.DB, msg.tenant_id, id),
			event: (id) => findEvent(env.DB, msg.tenant_id, id),
			payload: (eventId) => readPayload(env.DB, eventId),
		});
	},

	claim: (env, msg, nowMs) => claimDelivery(env.DB, msg.tenant_id, msg.delivery_id, msg.attempt, nowMs),

	async record(env, msg, record, nowMs) {
		const delivery = await findDelivery(env.DB, msg.tenant_id, msg.delivery_id);
		if (!delivery) return;
		const write = attemptWrite(msg, delivery, record, nowMs);
		await recordAttempt(env.DB, write.attempt, write.next);
		await afterOutcome(env, msg.tenant_id, delivery.endpoint_id, record.decision, nowMs);
	},

	send: (env, msg, delaySeconds) => sendMessages(env, [msg], delaySeconds),

	async nextMessage(env, tenantId, deliveryId): Promise<AttemptMessage | null> {
		const next = await findDelivery(env.DB, tenantId, deliveryId);
		if (!next || !["pending", "delivering"].includes(next.status)) return null;
		return { kind: "attempt", tenant_id: tenantId, delivery_id: next.id, attempt: next.attempts + 1 };
	},
};

/** Where a delivery's endpoint, event and payload come from (single queries, or a batch's preloaded rows). */
export type DeliveryLookups = {
	endpoint: (id: string) => Promise<EndpointRow | null>;
	event: (id: string) => Promise<EventRow | null>;
	payload: (eventId: string) => Promise<string>;
};

/**
 * What an attempt of `delivery` sends, or null when the message is stale or the delivery ended
 * without an attempt (its endpoint disabled or deleted, its event expired).
 */
export async function prepareDelivery(
	env: Env,
	msg: AttemptMessage,
	delivery: DeliveryRow | null,
	lookups: DeliveryLookups,
): Promise<PreparedDelivery | null> {
	if (!delivery || delivery.attempts !== msg.attempt - 1 || !["pending", "delivering"].includes(delivery.status))
		return null;
	const endpoint = await lookups.endpoint(delivery.endpoint_id);
	if (!endpoint || endpoint.enabled !== 1) {
		const reason = endpoint ? "the endpoint is disabled" : "the endpoint was deleted";
		await endWithoutAttempt(env, msg, delivery, "failed", reason);
		return null;
	}
	const event = await lookups.event(delivery.event_id);
	if (!event) {
		await endWithoutAttempt(env, msg, delivery, "dead", "the event expired");
		return null;
	}
	return {
		rateLimit: endpoint.rate_limit,
		laneName: laneName(endpoint.tenant_id, endpoint.id),
		laneKey: delivery.lane_key,
		build: async (nowMs) => {
			const data: unknown = JSON.parse(await lookups.payload(event.id));
			// The Standard Webhooks envelope: type, timestamp, data.
			const body = JSON.stringify({ type: event.type, timestamp: new Date(event.created_at).toISOString(), data });
			return { url: endpoint.url, body, headers: await signedHeaders(env, endpoint, event.id, body, nowMs) };
		},
	};
}

/** The attempt log row and the delivery's state after an attempt. */
export function attemptWrite(
	msg: AttemptMessage,
	delivery: DeliveryRow,
	record: AttemptRecord,
	nowMs: number,
): AttemptWrite {
	const { decision } = record;
	return {
		attempt: {
			id: newId("att"),
			tenant_id: msg.tenant_id,
			endpoint_id: delivery.endpoint_id,
			delivery_id: delivery.id,
			event_id: delivery.event_id,
			attempt: record.attempt,
			status_code: record.statusCode,
			latency_ms: record.latencyMs,
			response_excerpt: record.excerpt,
			error: record.error,
			created_at: nowMs,
		},
		next: {
			status: STATUS_AFTER[decision.kind],
			nextAttemptAt: decision.kind === "retry" ? nowMs + decision.delaySeconds * 1000 : null,
			deadReason: decision.kind === "dead" || decision.kind === "gone" ? decision.reason : null,
		},
	};
}

/** The endpoint's failure clock; 410 or failing for 5 days disables it. */
export async function afterOutcome(
	env: Env,
	tenantId: string,
	endpointId: string,
	decision: AttemptRecord["decision"],
	nowMs: number,
): Promise<void> {
	const endpoint = await findEndpoint(env.DB, tenantId, endpointId);
	if (!endpoint) return;
	const ok = decision.kind === "succeeded";
	if (ok && endpoint.failing_since === null) return;
	await markEndpointOutcome(env.DB, tenantId, endpointId, ok, nowMs);
	if (ok) return;
	if (decision.kind === "gone") return disable(env, tenantId, endpointId, decision.reason);
	if (failingTooLong(endpoint.failing_since, nowMs)) {
		return disable(env, tenantId, endpointId, "every attempt failed for 5 days");
	}
}

async function disable(env: Env, tenantId: string, endpointId: string, reason: string): Promise<void> {
	if (!(await switchEndpoint(env, tenantId, endpointId, false, reason))) return;
	log.warn("webhook endpoint disabled", { tenant_id: tenantId, endpoint_id: endpointId, reason });
	try {
		await storeEvent(
			env,
			tenantId,
			"endpoint.disabled",
			{ endpoint_id: endpointId, reason },
			`endpoint.disabled:${endpointId}:${Date.now()}`,
		);
	} catch (err) {
		log.error("endpoint.disabled not published", {
			tenant_id: tenantId,
			endpoint_id: endpointId,
			error: errorText(err),
		});
	}
}

/** A delivery whose attempt message reached the dead-letter queue; its ordered lane moves on. */
export async function markDeliveryDead(env: Env, msg: AttemptMessage, reason: string): Promise<void> {
	const delivery = await findDelivery(env.DB, msg.tenant_id, msg.delivery_id);
	if (delivery) await endWithoutAttempt(env, msg, delivery, "dead", reason);
}

/** Ends a delivery that will not be attempted again, letting the next one of its ordered lane go. */
async function endWithoutAttempt(
	env: Env,
	msg: Pick<AttemptMessage, "tenant_id" | "delivery_id">,
	delivery: DeliveryRow,
	status: "failed" | "dead",
	reason: string,
): Promise<void> {
	await finishDelivery(env.DB, msg.tenant_id, delivery.id, status, reason, Date.now());
	if (delivery.lane_key !== null)
		await startNextInLane(env, webhookAdapter, laneName(msg.tenant_id, delivery.endpoint_id), delivery.lane_key, msg);
}

function laneName(tenantId: string, endpointId: string): string {
	return `webhooks:${tenantId}:${endpointId}`;
}
