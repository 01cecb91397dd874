import { errorText, log } from "../platform/log";
import { sleep } from "../platform/timeout";
import type { AccessBatch } from "./access-log";
import { AccessLog, FLUSH_KEYS, FLUSH_MS } from "./access-log";

/**
 * L1 hits never reach a shard, yet they are hits (stats) and reads (LRU/LFU order). This isolate
 * counts them per shard object, the way a shard keeps its own reads (src/cache/access-log.ts), and
 * sends each shard its batch in one call after the response (ctx.waitUntil): FLUSH_MS after the
 * first unsent hit, at once when FLUSH_KEYS keys wait, and before this isolate answers a namespace's
 * stats. A batch whose call fails is logged and dropped: hit counts and recency are then short by
 * it, never the entries.
 */

/** Sends one shard its batch (a Durable Object call made in the request that runs the flush). */
export type SendReads = (shard: string, batch: AccessBatch) => Promise<void>;
/** Keeps background work alive after the response (ctx.waitUntil). */
export type Defer = (work: Promise<unknown>) => void;

/** Unsent L1 hits by shard object name (`<tenant>:<namespace>:<index>`): plain data only. */
const pending = new Map<string, AccessLog>();
/** When the pending flush was scheduled; one overdue by far (its request's work cancelled) no longer blocks the next. */
let flushScheduledAt: number | null = null;
const FLUSH_OVERDUE_MS = FLUSH_MS + 15_000;

/** Counts one L1 hit of `key` for its shard; schedules (or starts) the flush that sends it. */
export function countL1Hit(shard: string, key: string, now: number, send: SendReads, defer: Defer): void {
	let reads = pending.get(shard);
	if (!reads) {
		reads = new AccessLog();
		pending.set(shard, reads);
	}
	reads.hit(key, now);
	if (reads.size >= FLUSH_KEYS) defer(flushL1Hits((name) => name === shard, send));
	else if (flushScheduledAt === null || now - flushScheduledAt >= FLUSH_OVERDUE_MS) {
		flushScheduledAt = now;
		defer(
			sleep(FLUSH_MS).then(() => {
				flushScheduledAt = null;
				return flushL1Hits(() => true, send);
			}),
		);
	}
}

/** A key written or deleted through this isolate: its unsent recency would land on the new entry. */
export function forgetL1Hits(shard: string, key: string): void {
	pending.get(shard)?.forget(key);
}

/** Sends the unsent hits of the shards `which` selects (at most 6 calls at a time); never rejects. */
export async function flushL1Hits(which: (shard: string) => boolean, send: SendReads): Promise<void> {
	const batches: [string, AccessBatch][] = [];
	for (const [shard, reads] of pending) {
		if (!which(shard)) continue;
		pending.delete(shard);
		if (!reads.empty) batches.push([shard, reads.drain()]);
	}
	for (let i = 0; i < batches.length; i += 6) {
		await Promise.all(
			batches.slice(i, i + 6).map(async ([shard, batch]) => {
				try {
					await send(shard, batch);
				} catch (error) {
					log.warn("cache L1 hits not recorded", { shard, hits: batch.hits, error: errorText(error) });
				}
			}),
		);
	}
}
