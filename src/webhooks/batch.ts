import type { AttemptMessage, AttemptRecord, DeliveryAdapter } from "../delivery/engine";
import type { AttemptWrite } from "./batch-db";
import { findDeliveriesByIds, findEndpointsByIds, findEventsByIds, recordAttempts } from "./batch-db";
import type { EndpointRow } from "./db";
import type { DeliveryRow, EventRow } from "./delivery-db";
import { findDelivery, readPayload } from "./delivery-db";
import { afterOutcome, attemptWrite, prepareDelivery, webhookAdapter } from "./adapter";
import { sendMessages } from "./service";

/**
 * The attempt messages of one queue batch, run with batch-wide I/O: the deliveries, endpoints and
 * events they need are read up front (one `IN` query per table) and an event's payload once
 * for all its deliveries; what each attempt records (the attempt log row and the delivery's new
 * state) and the messages it would send (retries, the next of an ordered lane) are kept and
 * written by `flush` in one transaction, then sent. Per delivery this leaves the claim (the
 * compare-and-set that keeps a duplicated message from sending twice) and the request itself.
 *
 * `flush` must finish before the batch's messages are acked: until then a delivery is
 * `delivering` under its claim's lease, and a redelivered message takes it over once the lease
 * ran out (so a failed flush is retried after LEASE_MS, never lost).
 */

export type AttemptBatch = { adapter: DeliveryAdapter; flush: () => Promise<void> };

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
		claim: webhookAdapter.claim,
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

	return { adapter, flush };
}

function byId<Row extends { id: string }>(rows: readonly Row[]): Map<string, Row> {
	return new Map(rows.map((r) => [r.id, r]));
}

function sameTenant<Row extends EndpointRow | EventRow>(row: Row | undefined, tenantId: string): Row | null {
	return row && row.tenant_id === tenantId ? row : null;
}
