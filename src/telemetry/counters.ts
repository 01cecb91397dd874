import type { BacklogReading, IngestDelta } from "./stats-db";
import { addIngestDeltas, readBacklog } from "./stats-db";
import { errorText, log } from "../platform/log";
import { TtlCache } from "../platform/ttl-cache";

// Isolate-wide counters (plain numbers, no I/O objects): ingest counts here and flushes the
// aggregated deltas to D1 at most every TELEMETRY_STATS_FLUSH_SECONDS, from ctx.waitUntil, so no
// request waits on a counter write and no single object takes every request. Counts of an isolate
// evicted before its flush are lost: received/enqueued/rejected are estimates, never data.
const pending = new Map<string, IngestDelta>();
let lastFlushAt = 0;
// The last backlog reading per tenant (each also carries the platform figure of its moment), and
// the newest platform figure from any of them. Bounded: a tenant that falls out reads afresh.
const MAX_BACKLOG_READINGS = 10_000;
const backlogReadings = new TtlCache<string, { reading: BacklogReading; at: number }>({
	ttlMs: 60_000,
	maxEntries: MAX_BACKLOG_READINGS,
});
let platformBacklog = { value: 0, at: Number.NEGATIVE_INFINITY };
const refreshing = new Set<string>();

export function countIngest(tenantId: string, delta: Partial<IngestDelta>): void {
	const current = pending.get(tenantId) ?? { received: 0, enqueued: 0, rejected: 0, backfillEnqueued: 0 };
	current.received += delta.received ?? 0;
	current.enqueued += delta.enqueued ?? 0;
	current.rejected += delta.rejected ?? 0;
	current.backfillEnqueued += delta.backfillEnqueued ?? 0;
	pending.set(tenantId, current);
}

/** Starts a flush in the background when the last one is older than `intervalMs`. */
export function scheduleFlush(
	db: D1Database,
	waitUntil: (promise: Promise<unknown>) => void,
	intervalMs: number,
): void {
	const now = Date.now();
	if (pending.size === 0 || now - lastFlushAt < intervalMs) return;
	lastFlushAt = now;
	waitUntil(flushCounters(db));
}

/** Writes this isolate's pending deltas; on failure they are kept for the next flush. */
export async function flushCounters(db: D1Database): Promise<void> {
	if (pending.size === 0) return;
	const batch = new Map(pending);
	pending.clear();
	try {
		await addIngestDeltas(db, batch);
	} catch (err) {
		for (const [tenantId, delta] of batch) countIngest(tenantId, delta);
		log.error("telemetry counter flush failed", { error: errorText(err) });
	}
}

/**
 * Updates accepted but not yet written or dead-lettered, over the platform and for `tenantId`: the
 * D1 figures (read at most every `maxAgeMs` per tenant and isolate) plus this isolate's enqueued
 * updates not yet flushed. An estimate: it lags by up to the flush interval and misses counts of
 * evicted isolates. Stale-while-revalidate: once the isolate has a tenant's reading, an expired one
 * is refreshed by one background read while requests go on with the last value, so a busy isolate
 * never sends a herd of identical D1 reads (under 500 connections that herd queued behind the
 * consumer's writes and stretched p99 to seconds).
 */
export async function estimateBacklog(
	db: D1Database,
	tenantId: string,
	maxAgeMs: number,
	waitUntil: (promise: Promise<unknown>) => void,
): Promise<BacklogReading> {
	const now = Date.now();
	let cached = backlogReadings.get(tenantId, now);
	// No reading yet, or no cache configured (0): read now.
	if (cached === undefined || maxAgeMs <= 0) {
		cached = remember(tenantId, await readBacklog(db, tenantId), now);
	} else if (now - cached.at >= maxAgeMs && !refreshing.has(tenantId)) {
		refreshing.add(tenantId);
		waitUntil(
			readBacklog(db, tenantId)
				.then((reading) => remember(tenantId, reading, Date.now()))
				.catch((err: unknown) => log.error("backlog read failed", { error: errorText(err) }))
				.finally(() => refreshing.delete(tenantId)),
		);
	}
	let local = 0;
	for (const delta of pending.values()) local += delta.enqueued;
	return {
		platform: Math.max(0, platformBacklog.value + local),
		tenant: Math.max(0, cached.reading.tenant + (pending.get(tenantId)?.enqueued ?? 0)),
	};
}

function remember(tenantId: string, reading: BacklogReading, at: number): { reading: BacklogReading; at: number } {
	const entry = { reading, at };
	backlogReadings.set(tenantId, entry);
	if (at >= platformBacklog.at) platformBacklog = { value: reading.platform, at };
	return entry;
}
