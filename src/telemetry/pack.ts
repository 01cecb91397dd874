import type { Packed } from "../platform/send-coalescer";
import { MAX_MESSAGE_BYTES, POINTS_PER_MESSAGE, byteLength, messageBytes } from "../platform/queue-limits";
import type { LocationsMessage, StoredPoint, TelemetryMessage } from "./domain";

type Bin = { first: LocationsMessage; rest: LocationsMessage[]; members: number[]; points: number; bytes: number };

/** What a point's own `,"received_at":<ms>` adds at most (an upper bound keeps the size check safe). */
const RECEIVED_AT_BYTES = 32;

/**
 * Group commit's pack hook for telemetry, pure: the `locations` messages of one window (from
 * different requests of one isolate) merged into fewer messages, so the queue broker and the
 * consumer, which both pay per message, see ~25 points per message instead of one per request.
 *
 * Only messages that would be written the same way are merged: same tenant, lane, schema version,
 * colo and country. `received_at` may differ: the packed message keeps the first one's and every
 * point received at another time carries its own (`received_at` on the point), so each row is
 * stored exactly as if its message had travelled alone. A request's message is never split, so
 * each request's points ride one queue message and one sendBatch call: a failed call fails exactly
 * the requests it carried. A packed message gets a fresh id (the consumer's once-only count is per
 * message id, the rows' dedupe is by their own keys), holds at most POINTS_PER_MESSAGE points (the
 * consumer's bound: 100 messages × 25 points within D1's 1,000 queries) and at most `maxBytes`.
 * Reports are passed through alone.
 */
export function packTelemetry(
	bodies: readonly TelemetryMessage[],
	newId: () => string,
	maxBytes: number = MAX_MESSAGE_BYTES,
): Packed<TelemetryMessage>[] {
	const out: Packed<TelemetryMessage>[] = [];
	const open = new Map<string, Bin>();
	const close = (bin: Bin) => out.push(packBin(bin, newId));
	bodies.forEach((body, index) => {
		if (body.kind !== "locations") {
			out.push({ body, members: [index] });
			return;
		}
		const key = JSON.stringify([body.tenant_id, body.lane ?? "live", body.v, body.colo, body.country]);
		const bin = open.get(key);
		const size = byteLength(body.points) + body.points.length * RECEIVED_AT_BYTES;
		if (bin !== undefined && bin.points + body.points.length <= POINTS_PER_MESSAGE && bin.bytes + size <= maxBytes) {
			bin.rest.push(body);
			bin.members.push(index);
			bin.points += body.points.length;
			bin.bytes += size;
			return;
		}
		// It does not fit: of the open message and this one, the one with fewer points stays open
		// (more room for the next), the other is sent as it is.
		if (bin !== undefined && body.points.length >= bin.points) {
			out.push({ body, members: [index] });
			return;
		}
		if (bin !== undefined) close(bin);
		open.set(key, { first: body, rest: [], members: [index], points: body.points.length, bytes: messageBytes(body) });
	});
	for (const bin of open.values()) close(bin);
	return out;
}

function packBin({ first, rest, members }: Bin, newId: () => string): Packed<TelemetryMessage> {
	// A bin of one is sent as it came (its own id, nothing to merge).
	if (rest.length === 0) return { body: first, members };
	const points: StoredPoint[] = [...first.points];
	for (const m of rest)
		for (const p of m.points)
			points.push(m.received_at === first.received_at ? p : { ...p, received_at: p.received_at ?? m.received_at });
	return { body: { ...first, id: newId(), points }, members };
}
