import type { Policy } from "../gateway/limiter/domain";
import type { LimitTarget } from "../gateway/limiter/route-limits";
import { POINTS_PER_MESSAGE, chunk } from "../platform/queue-limits";
import type { StoredPoint, TelemetryMessage } from "./domain";
import { MAX_POINTS_PER_BATCH, updateCount } from "./domain";

/**
 * Fast and slow ingest lanes, pure. A point recorded longer ago than the backfill age (a device
 * emptying its outbox after an outage) travels in the backfill lane: its own queue, its own
 * producer limits, a consumer paced to a configured rate. Everything else, and every machine
 * report (a report has a date, not a time), is live. A message carries `lane: "backfill"` so the
 * consumers, counters and dead letters can tell the lanes apart whatever queue it is in.
 */

export type Lane = "live" | "backfill";
export const LANES = ["live", "backfill"] as const;

/** Points per minute and lane, per device and per tenant (the producer limits). */
export type LaneLimits = Record<Lane, { device: number; tenant: number }>;

export type MessageMeta = Pick<TelemetryMessage, "v" | "tenant_id" | "received_at" | "colo" | "country">;

export function laneOf(message: TelemetryMessage): Lane {
	return message.lane ?? "live";
}

/** Location points as queue messages: split by lane, then packed POINTS_PER_MESSAGE per message. */
export function locationMessages(
	meta: MessageMeta,
	points: readonly StoredPoint[],
	backfillBefore: number,
	newId: () => string,
): TelemetryMessage[] {
	const live = points.filter((p) => p.recorded_at >= backfillBefore);
	const old = points.filter((p) => p.recorded_at < backfillBefore);
	return [
		...chunk(live, POINTS_PER_MESSAGE).map((group): TelemetryMessage => ({
			...meta,
			id: newId(),
			kind: "locations",
			points: group,
		})),
		...chunk(old, POINTS_PER_MESSAGE).map((group): TelemetryMessage => ({
			...meta,
			id: newId(),
			kind: "locations",
			lane: "backfill",
			points: group,
		})),
	];
}

/**
 * A device's lane budget is leased to an isolate for 8 s instead of the limiter's default 3 s: a
 * device mostly talks to one isolate, and with thousands of devices posting every few seconds the
 * per-device object call was the one remote call of most ingest requests (bench/profile.mjs:
 * ~22% of the isolate's busy time). The tenant's budget keeps the default (many isolates share it).
 * Not longer: a Durable Object with no request for 10 s may hibernate (Cloudflare's lifecycle
 * docs; workerd locally does the same), and the next call constructs it again and reloads its
 * state. At 15 s every renewal met a cold object: the profile had that one RPC line at ~12% of the
 * isolate's busy time, against under 1% at 8 s.
 */
export const DEVICE_LEASE_TTL_MS = 8_000;

/**
 * What a request's messages count against: per lane, the tenant's key and each device's key
 * (truck or machine id), each charged the updates it carries. Keys and names are the lane's own,
 * so a device replaying a week of points spends only its backfill budget and its tenant's.
 */
export function laneTargets(
	tenantId: string,
	messages: readonly TelemetryMessage[],
	limits: LaneLimits,
): LimitTarget[] {
	const costs = new Map<string, { lane: Lane; scope: "tenant" | "device"; cost: number }>();
	const charge = (key: string, lane: Lane, scope: "tenant" | "device", n: number) => {
		const entry = costs.get(key) ?? { lane, scope, cost: 0 };
		entry.cost += n;
		costs.set(key, entry);
	};
	for (const message of messages) {
		const lane = laneOf(message);
		charge(`lane:${tenantId}:${lane}:tenant`, lane, "tenant", updateCount(message));
		if (message.kind === "report") charge(`lane:${tenantId}:${lane}:device:${message.machine_id}`, lane, "device", 1);
		else for (const p of message.points) charge(`lane:${tenantId}:${lane}:device:${p.truck_id}`, lane, "device", 1);
	}
	return [...costs].map(([key, { lane, scope, cost }]) => ({
		key,
		policies: [lanePolicy(`${lane}-ingest-${scope}`, limits[lane][scope])],
		cost,
		onFailure: "open",
		...(scope === "device" ? { leaseTtlMs: DEVICE_LEASE_TTL_MS } : {}),
	}));
}

/**
 * The backfill consumer's pace: a leaky bucket draining `perSecond` updates a second; a batch
 * waits its turn (up to 30 s) instead of writing as fast as D1 would take it.
 */
export function backfillPacePolicy(perSecond: number): Policy {
	return {
		name: "backfill-writes",
		algorithm: "leaky_bucket",
		limit: perSecond,
		windowSeconds: 1,
		burst: perSecond,
		maxDelayMs: 30_000,
	};
}

/**
 * One policy object per name and limit, reused by every request: the limiter identifies a lease by
 * its policies' text, memoized per object, so a fresh object per request cost a JSON.stringify each.
 */
const lanePolicies = new Map<string, Policy>();

/** A token bucket of `perMinute` points that always holds at least one full batch (500 points). */
function lanePolicy(name: string, perMinute: number): Policy {
	const key = `${name}:${perMinute}`;
	let policy = lanePolicies.get(key);
	if (policy === undefined) {
		policy = {
			name,
			algorithm: "token_bucket",
			limit: perMinute,
			windowSeconds: 60,
			burst: Math.max(perMinute, MAX_POINTS_PER_BATCH),
		};
		lanePolicies.set(key, policy);
	}
	return policy;
}
