import { errorText, log } from "./log";

/**
 * One kind of expiring data: a feature's `purgeExpired…(db, cutoff, limit)` (SQL in its db file)
 * bound to its database, with the cutoff its retention setting gives. It removes (or, for
 * payments' raw answers, nulls) at most `limit` of the oldest rows that expired before `cutoff`
 * and returns how many it touched.
 */
export type RetentionTarget = {
	name: string;
	cutoff: number;
	purge: (cutoff: number, limit: number) => Promise<number>;
};

export type RetentionBounds = { batchSize: number; batchesPerTarget: number };

/**
 * Per run: up to 10 statements of 500 rows per target. With the 8 targets of today that is at most
 * 80 statements, far under D1's 1,000 queries per invocation, and 5,000 rows per target per run.
 */
export const RETENTION_BOUNDS: RetentionBounds = { batchSize: 500, batchesPerTarget: 10 };

const DAY_MS = 86_400_000;

/** The instant before which data kept `days` days (a [vars] string) has expired. */
export function expiredBefore(now: number, days: string): number {
	return now - Number(days) * DAY_MS;
}

/**
 * Runs each target's purge in bounded batches, in the order given (so a feature can clear
 * children before parents), until a batch comes back short or the target's batches are spent;
 * what is left waits for the next run. A failing target is logged and the others still run.
 */
export async function sweepRetention(
	targets: readonly RetentionTarget[],
	bounds: RetentionBounds = RETENTION_BOUNDS,
): Promise<Record<string, number>> {
	const removed: Record<string, number> = {};
	for (const target of targets) {
		let total = 0;
		try {
			for (let batch = 0; batch < bounds.batchesPerTarget; batch++) {
				const n = await target.purge(target.cutoff, bounds.batchSize);
				total += n;
				if (n < bounds.batchSize) break;
			}
		} catch (err) {
			log.error("retention purge failed", { target: target.name, error: errorText(err) });
		}
		removed[target.name] = total;
	}
	return removed;
}
