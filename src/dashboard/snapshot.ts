import type { Point } from "./domain";
import { fillMinutes, MINUTE_MS, minuteOf, samplesToRecord, seriesFromSamples, SERIES_WINDOW_MINUTES } from "./domain";
import type { MinuteCount } from "./samples-db";
import {
	deviceReporting,
	jobsByStatusAndType,
	jobsFinishedPerMinute,
	paymentsPerMinute,
	readSamples,
	recordSamples,
	reportArrivals,
	SURGE_WINDOW_MINUTES,
} from "./samples-db";
import type { Snapshot } from "./schema";
import { counterReadings } from "./counters";
import { EMPTY_PANELS, tenantPanels } from "./panels";
import { readStats } from "../telemetry/stats-db";
import { flushCounters } from "../telemetry/counters";
import { jobMetrics } from "../jobs/metrics";
import { breakerConfig, processorBreakerName } from "../payments/breaker";

const DAY_MS = 86_400_000;
const WAITING = new Set(["queued", "scheduled", "failed"]);

/**
 * Everything the dashboard shows for one viewer (null = the platform), with the last hour of each
 * series. The readings no table keeps over time are recorded for this minute on the way.
 */
export async function buildSnapshot(env: Env, tenantId: string | null, now: number): Promise<Snapshot> {
	const since = minuteOf(now) - SERIES_WINDOW_MINUTES * MINUTE_MS;
	await flushCounters(env.DB);
	const stats = await readStats(env.DB, tenantId);
	const live = lane(
		stats.enqueued - stats.backfill_enqueued,
		stats.processed - stats.backfill_processed,
		stats.dead_letters - stats.backfill_dead_letters,
	);
	const backfill = lane(stats.backfill_enqueued, stats.backfill_processed, stats.backfill_dead_letters);
	const [tenant, panels] =
		tenantId === null
			? [null, EMPTY_PANELS]
			: await Promise.all([tenantFigures(env, tenantId, now, since), tenantPanels(env, tenantId, now)]);
	const readings: Record<string, number> = {
		...counterReadings(tenantId),
		ingest_received_total: stats.received,
		ingest_processed_total: stats.processed,
		ingest_backlog_live: live,
		ingest_backlog_backfill: backfill,
		queue_telemetry: live + backfill,
		...tenant?.readings,
	};
	const scope = tenantId ?? "platform";
	await recordSamples(env.DB, scope, samplesToRecord(readings, now));
	const series = { ...seriesFromSamples(await readSamples(env.DB, scope, since)), ...tenant?.series };
	return {
		at: now,
		scope: tenantId === null ? "platform" : "tenant",
		tenant_id: tenantId,
		ingest: {
			received: stats.received,
			processed: stats.processed,
			dead_letters: stats.dead_letters,
			backlog_live: live,
			backlog_backfill: backfill,
		},
		queues: {
			telemetry_backlog: live + backfill,
			jobs_waiting: tenant?.readings.queue_jobs_waiting ?? 0,
			jobs_processing: tenant?.readings.queue_jobs_processing ?? 0,
		},
		jobs: tenant?.jobs ?? { by_status: {}, by_type: [], counts: [] },
		payments: tenant?.payments ?? { breaker: null, last_hour: {} },
		devices: tenant?.devices ?? { total: 0, reporting: 0, missed: 0 },
		surge: tenant?.surge ?? { since: now - SURGE_WINDOW_MINUTES * MINUTE_MS, minutes: [] },
		panels,
		series,
	};
}

async function tenantFigures(env: Env, tenantId: string, now: number, since: number) {
	const surgeSince = minuteOf(now) - SURGE_WINDOW_MINUTES * MINUTE_MS;
	const [counts, metrics, payments, finished, devices, arrivals, breaker] = await Promise.all([
		jobsByStatusAndType(env.DB, tenantId),
		jobMetrics(env.DB, tenantId, now),
		paymentsPerMinute(env.DB, tenantId, since),
		jobsFinishedPerMinute(env.DB, tenantId, since),
		deviceReporting(env.DB, tenantId, now - DAY_MS),
		reportArrivals(env.DB, tenantId, surgeSince),
		env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId)).inspect(breakerConfig(env)),
	]);
	const byStatus: Record<string, number> = {};
	for (const r of counts) byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
	const waiting = counts.filter((r) => WAITING.has(r.status)).reduce((sum, r) => sum + r.n, 0);
	const missed = devices.total - devices.reporting;
	const readings: Record<string, number> = {
		queue_jobs_waiting: waiting,
		queue_jobs_processing: byStatus.processing ?? 0,
		jobs_dead: byStatus.dead ?? 0,
		devices_reporting: devices.reporting,
		devices_missed: missed,
	};
	const lastHour: Record<string, number> = {};
	for (const p of payments) lastHour[p.status] = (lastHour[p.status] ?? 0) + p.n;
	const firstArrival = arrivals[0]?.minute;
	return {
		readings,
		series: {
			...perStatus("payments", payments, since, now),
			...perStatus("jobs_finished", finished, since, now),
		},
		jobs: {
			by_status: byStatus,
			by_type: metrics.metrics.map((m) => ({
				type: m.type,
				priority: m.priority,
				processed: m.processed,
				failed: m.failed,
				p50_ms: m.processing_ms.p50,
				p95_ms: m.processing_ms.p95,
				p99_ms: m.processing_ms.p99,
			})),
			counts,
		},
		payments: { breaker: breaker.state, last_hour: lastHour },
		devices: { total: devices.total, reporting: devices.reporting, missed },
		surge: {
			since: surgeSince,
			minutes:
				firstArrival === undefined
					? []
					: fillMinutes(
							arrivals.map((a): Point => [a.minute, a.n]),
							// At least the last hour, up to now: a quiet stretch shows as zeros, not as nothing.
							Math.min(firstArrival, minuteOf(now) - SERIES_WINDOW_MINUTES * MINUTE_MS),
							now,
						),
		},
	};
}

/** Per-minute counts by status to one gap-free series per status, named `<prefix>_<status>`. */
function perStatus(prefix: string, rows: readonly MinuteCount[], since: number, now: number): Record<string, Point[]> {
	const statuses = new Set(rows.map((r) => r.status));
	const out: Record<string, Point[]> = {};
	for (const status of statuses) {
		const points = rows.filter((r) => r.status === status).map((r): Point => [r.minute, r.n]);
		out[`${prefix}_${status}`] = fillMinutes(points, since, now);
	}
	return out;
}

function lane(enqueued: number, processed: number, deadLetters: number): number {
	return Math.max(0, enqueued - processed - deadLetters);
}
