import type { DestinationPolicy } from "../platform/destination";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import { errorText, log } from "../platform/log";
import type { PendingWrite } from "./write-behind-db";
import { dueWrites, markDelivered, markFailedAttempt } from "./write-behind-db";
import { TimeoutError } from "../platform/timeout";

/**
 * Writes a cache value to the tenant's origin (write-through and write-behind): a PUT of the JSON
 * value to the origin URL through safeFetch, with an `Idempotency-Key` so a repeated delivery (a
 * retry after a lost answer) is recognisable as the same write, and `Floodgate-Cache-Key` naming
 * the key. A 2xx is success; anything else is a failure the caller may retry.
 */

export type OriginWrite = { url: string; key: string; valueText: string; idempotencyKey: string };
export type OriginOutcome = { ok: true; status: number } | { ok: false; retryable: boolean; reason: string };

export const ORIGIN_TIMEOUT_MS = 5_000;

export async function writeToOrigin(write: OriginWrite, policy: DestinationPolicy): Promise<OriginOutcome> {
	try {
		const res = await safeFetch(write.url, {
			method: "PUT",
			headers: {
				"Content-Type": "application/json",
				"Idempotency-Key": write.idempotencyKey,
				"Floodgate-Cache-Key": encodeURIComponent(write.key),
			},
			body: write.valueText,
			policy,
			timeoutMs: ORIGIN_TIMEOUT_MS,
			maxResponseBytes: 4096,
			maxRedirects: 0,
		});
		if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
		// A 4xx other than 408/429 will not change by sending it again.
		const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
		return { ok: false, retryable, reason: `the origin answered HTTP ${res.status}` };
	} catch (error) {
		if (error instanceof DestinationRefusedError) return { ok: false, retryable: false, reason: error.message };
		if (error instanceof TimeoutError)
			return { ok: false, retryable: true, reason: "the origin did not answer in time" };
		return { ok: false, retryable: true, reason: `the origin could not be reached: ${errorText(error)}` };
	}
}

/** Delay before write-behind attempt `attempts + 1`: 1 s doubling to at most 5 minutes. */
export function writeBehindDelayMs(attempts: number): number {
	return Math.min(1_000 * 2 ** attempts, 300_000);
}

/** Write-behind deliveries per alarm run (each a bounded safeFetch), sent WRITE_CONCURRENCY at a time. */
const WRITE_BATCH = 24;
const WRITE_CONCURRENCY = 6;

/** Sends a CacheShard's due write-behind writes to their origins; each outcome is recorded as it arrives. */
export async function deliverDueWrites(sql: SqlStorage, policy: DestinationPolicy, now: number): Promise<void> {
	const due = dueWrites(sql, now, WRITE_BATCH);
	const deliver = async (write: PendingWrite) => {
		const outcome = await writeToOrigin(
			{ url: write.url, key: write.key, valueText: write.value, idempotencyKey: write.write_id },
			policy,
		);
		if (outcome.ok) markDelivered(sql, write.key, write.write_id);
		else {
			const nextAt = Date.now() + writeBehindDelayMs(write.attempts);
			markFailedAttempt(sql, write, { retryable: outcome.retryable, reason: outcome.reason, nextAt });
			log.warn("cache write-behind attempt failed", {
				key: write.key,
				attempts: write.attempts + 1,
				reason: outcome.reason,
			});
		}
	};
	for (let i = 0; i < due.length; i += WRITE_CONCURRENCY) {
		await Promise.all(due.slice(i, i + WRITE_CONCURRENCY).map(deliver));
	}
}
