import type { AttemptMessage, AttemptRecord, DeliveryAdapter } from "../delivery/engine";
import { DELIVERY_TIMEOUT_MS } from "../delivery/engine";
import { MAX_SIMULTANEOUS_CONNECTIONS } from "../delivery/pool";
import type { AttemptWrite, ClaimKey } from "./batch-db";
import { claimDeliveries, findDeliveriesByIds, findEndpointsByIds, findEventsByIds, recordAttempts } from "./batch-db";
import type { EndpointRow } from "./db";
import type { DeliveryRow, EventRow } from "./delivery-db";
import { LEASE_MS, findDelivery, readPayload } from "./delivery-db";
import { afterOutcome, attemptWrite, prepareDelivery, webhookAdapter } from "./adapter";
import { sendMessages } from "./service";

/**
 * The attempt messages of one queue batch, run with batch-wide I/O: the deliveries, endpoints and
 * events they need are read up front (one `IN` query per table) and an event's payload once
 * for all its deliveries; what each attempt records (the attempt log row and the delivery's new
 * state) and the messages it would send (retries, the next of an ordered lane) are kept and
 * written by `flush` in one transaction, then sent. The claims (the compare-and-set that keeps a
 * duplicated message from sending twice) of the deliveries no DeliveryLane paces or orders are
 * taken up front too, in one transaction, so such a delivery costs the request itself and nothing
 * else; a paced or ordered one is claimed on its own once its lane lets it go (as before).
 *
 * `flush` must finish before the batch's messages are acked: until then a delivery is
 * `delivering` under its claim's lease, and a redelivered message takes it over once the lease
 * ran out (so a failed flush is retried after `leaseUntil`, never lost). The up-front claims'
 * lease covers the whole batch: LEASE_MS plus a delivery timeout per round of 6 requests.
 */

export type AttemptBatch = { adapter: DeliveryAdapter; flush: () => Promise<void>; leaseUntil: number };

type Pending = { msg: AttemptMessage; delivery: DeliveryRow; write: AttemptWrite; record: AttemptRecord };

export async function openAttemptBatch(env: Env, messages: readonly AttemptMessage[]): Promise<AttemptBatch> {
	const deliveries = byId(
		await findDeliveriesByIds(
			env.DB,
			messages.map((m) => m.delivery_id),
		),
	);
	const mine = (m: AttemptMessage): DeliveryRow | null => {
		const row = deliveries.get(m.delivery_id);
		return row && row.tenant_id === m.tenant_id ? row : null;
	};
	const known = messages.map(mine).filter((d): d is DeliveryRow => d !== null);
	const [endpointRows, eventRows] = await Promise.all([
		findEndpointsByIds(
			env.DB,
			known.map((d) => d.endpoint_id),
		),
		findEventsByIds(
			env.DB,
			known.map((d) => d.event_id),
		),
	]);
	const endpoints = byId(endpointRows);
	const events = byId(eventRows);
	// The unpaced, unordered deliveries that will be attempted now: claimed together.
	const claimable = new Map<string, ClaimKey>();
	for (const msg of messages) {
		const delivery = mine(msg);
		if (!delivery || delivery.lane_key !== null || delivery.attempts !== msg.attempt - 1) continue;
		if (delivery.status !== "pending" && delivery.status !== "delivering") continue;
		const endpoint = sameTenant(endpoints.get(delivery.endpoint_id), msg.tenant_id);
		if (!endpoint || endpoint.enabled !== 1 || endpoint.rate_limit !== null) continue;
		if (!sameTenant(events.get(delivery.event_id), msg.tenant_id)) continue;
		claimable.set(claimKey(msg), { tenantId: msg.tenant_id, id: delivery.id, attempt: msg.attempt });
	}
	const claimedAt = Date.now();
	const rounds = Math.ceil(claimable.size / MAX_SIMULTANEOUS_CONNECTIONS);
	const leaseUntil = claimedAt + LEASE_MS + rounds * DELIVERY_TIMEOUT_MS;
	const claimed = await claimDeliveries(env.DB, [...claimable.values()], claimedAt, leaseUntil);
	const payloads = new Map<string, Promise<string>>();
	const writes: Pending[] = [];
	const sends: { msg: AttemptMessage; delaySeconds: number }[] = [];

	const adapter: DeliveryAdapter = {
		load: (_env, msg) =>
			prepareDelivery(env, msg, mine(msg), {
				endpoint: (id) => Promise.resolve(sameTenant(endpoints.get(id), msg.tenant_id)),
				event: (id) => Promise.resolve(sameTenant(events.get(id), msg.tenant_id)),
				payload: (eventId) => {
					let text = payloads.get(eventId);
					if (!text) {
						text = readPayload(env.DB, eventId);
						payloads.set(eventId, text);
					}
					return text;
				},
			}),
		// A delivery claimed up front is owned by the first of its messages; a duplicate is stale.
		claim: (_env, msg, nowMs) =>
			claimable.has(claimKey(msg))
				? Promise.resolve(claimed.delete(msg.delivery_id))
				: webhookAdapter.claim(env, msg, nowMs),
		async record(_env, msg, record, nowMs) {
			const delivery = mine(msg) ?? (await findDelivery(env.DB, msg.tenant_id, msg.delivery_id));
			if (!delivery) return;
			writes.push({ msg, delivery, write: attemptWrite(msg, delivery, record, nowMs), record });
		},
		send(_env, msg, delaySeconds) {
			sends.push({ msg, delaySeconds });
			return Promise.resolve();
		},
		nextMessage: webhookAdapter.nextMessage,
	};

	async function flush(): Promise<void> {
		await recordAttempts(
			env.DB,
			writes.map((w) => w.write),
		);
		const now = Date.now();
		for (const w of writes) {
			const endpoint = endpoints.get(w.delivery.endpoint_id);
			// A success to an endpoint that was not failing changes nothing: no query.
			if (w.record.decision.kind === "succeeded" && endpoint?.failing_since === null) continue;
			await afterOutcome(env, w.msg.tenant_id, w.delivery.endpoint_id, w.record.decision, now);
		}
		const byDelay = new Map<number, AttemptMessage[]>();
		for (const s of sends) byDelay.set(s.delaySeconds, [...(byDelay.get(s.delaySeconds) ?? []), s.msg]);
		for (const [delaySeconds, msgs] of byDelay) await sendMessages(env, msgs, delaySeconds);
	}

	return { adapter, flush, leaseUntil };
}

function claimKey(msg: AttemptMessage): string {
	return `${msg.tenant_id}:${msg.delivery_id}:${msg.attempt}`;
}

function byId<Row extends { id: string }>(rows: readonly Row[]): Map<string, Row> {
	return new Map(rows.map((r) => [r.id, r]));
}

function sameTenant<Row extends EndpointRow | EventRow>(row: Row | undefined, tenantId: string): Row | null {
	return row && row.tenant_id === tenantId ? row : null;
}
