import { percentile } from "../platform/percentiles";
import { countUnfinished, findOldestReady, listFinishedSince } from "./metrics-db";

export const METRICS_WINDOW_MS = 15 * 60_000;

type Bucket = {
	type: string;
	priority: string;
	depth: { queued: number; scheduled: number; waiting: number; processing: number; failed_retrying: number };
	processed: number;
	failed: number;
	retry_rate: number | null;
	processing_ms: { p50: number | null; p95: number | null; p99: number | null };
	oldest_waiting_age_ms: number | null;
};

/** Per type and priority: depth now; processed, dead, retries and processing time over the window. */
export async function jobMetrics(db: D1Database, tenantId: string, now: number) {
	const [depthRows, oldestRows, finishedRows] = await Promise.all([
		countUnfinished(db, tenantId),
		findOldestReady(db, tenantId, now),
		listFinishedSince(db, tenantId, now - METRICS_WINDOW_MS),
	]);
	const buckets = new Map<string, Bucket & { samples: number[]; attempts: number }>();
	const bucket = (type: string, priority: string) => {
		const key = `${type}|${priority}`;
		let b = buckets.get(key);
		if (!b) {
			b = {
				type,
				priority,
				depth: { queued: 0, scheduled: 0, waiting: 0, processing: 0, failed_retrying: 0 },
				processed: 0,
				failed: 0,
				retry_rate: null,
				processing_ms: { p50: null, p95: null, p99: null },
				oldest_waiting_age_ms: null,
				samples: [],
				attempts: 0,
			};
			buckets.set(key, b);
		}
		return b;
	};
	for (const r of depthRows) {
		const d = bucket(r.type, r.priority).depth;
		if (r.status === "failed") d.failed_retrying += r.n;
		else if (r.status === "queued" || r.status === "scheduled" || r.status === "waiting" || r.status === "processing")
			d[r.status] += r.n;
	}
	for (const r of oldestRows) {
		bucket(r.type, r.priority).oldest_waiting_age_ms = now - r.oldest;
	}
	for (const r of finishedRows) {
		const b = bucket(r.type, r.priority);
		if (r.status === "completed") b.processed += 1;
		else b.failed += 1;
		b.attempts += r.attempts;
		if (r.status === "completed" && r.started_at !== null) b.samples.push(r.completed_at - r.started_at);
	}
	return {
		window_seconds: METRICS_WINDOW_MS / 1000,
		metrics: [...buckets.values()].map(({ samples, attempts, ...b }) => ({
			...b,
			// Share of attempts in the window that were retries (attempts beyond each job's first).
			retry_rate: attempts === 0 ? null : (attempts - (b.processed + b.failed)) / attempts,
			processing_ms: { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) },
		})),
	};
}
