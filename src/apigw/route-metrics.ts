import type { Sample } from "../metrics/domain";
import { ingestSamples } from "../metrics/ingest";
import { errorText, log } from "../platform/log";

/**
 * Per-route figures into the tenant's own metrics (the metrics service's ingest, src/metrics/ingest.ts):
 * `apigw_requests{route,status}` (a gauge: requests answered with that status class since the
 * previous flush; sum it over time) and `apigw_request_duration_ms{route}` (a histogram of the
 * same interval). Counted in this isolate's memory and flushed at most every FLUSH_INTERVAL_MS,
 * so the proxy path never waits on D1 or a queue.
 */

export const FLUSH_INTERVAL_MS = 10_000;
const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
const MAX_TRACKED = 2_000;

type RouteFigures = { statuses: Map<string, number>; buckets: number[]; count: number; sum: number };

// Isolate-wide plain counters by tenant, then route.
let pending = new Map<string, Map<string, RouteFigures>>();
let tracked = 0;
let lastFlush = 0;

/** Counts one answered request; returns whether a flush is due (the caller schedules it with waitUntil). */
export function recordRequest(
	tenantId: string,
	route: string,
	status: number,
	latencyMs: number,
	now: number,
): boolean {
	let routes = pending.get(tenantId);
	if (!routes) {
		routes = new Map();
		pending.set(tenantId, routes);
	}
	let figures = routes.get(route);
	if (!figures) {
		// Bounded memory between flushes: beyond the cap a new route is not counted until the next flush.
		if (tracked >= MAX_TRACKED) return true;
		figures = { statuses: new Map(), buckets: BOUNDS.map(() => 0), count: 0, sum: 0 };
		routes.set(route, figures);
		tracked++;
	}
	const statusClass = `${Math.floor(status / 100)}xx`;
	figures.statuses.set(statusClass, (figures.statuses.get(statusClass) ?? 0) + 1);
	BOUNDS.forEach((bound, i) => {
		if (latencyMs <= bound) figures.buckets[i] = (figures.buckets[i] ?? 0) + 1;
	});
	figures.count++;
	figures.sum += latencyMs;
	return now - lastFlush >= FLUSH_INTERVAL_MS;
}

/** Sends what this isolate counted to each tenant's metrics, and starts counting afresh. */
export async function flushRouteMetrics(env: Env, now: number): Promise<number> {
	const batch = pending;
	pending = new Map();
	tracked = 0;
	lastFlush = now;
	let sent = 0;
	for (const [tenantId, routes] of batch) {
		const samples = [...routes].flatMap(([route, f]) => samplesOf(route, f, now));
		try {
			sent += (await ingestSamples(env, tenantId, samples, now)).accepted;
		} catch (err) {
			// A tenant at its series cap loses its gateway figures, not its traffic.
			log.warn("gateway metrics not recorded", { tenant_id: tenantId, error: errorText(err) });
		}
	}
	return sent;
}

function samplesOf(route: string, f: RouteFigures, now: number): Sample[] {
	const buckets: Record<string, number> = { "+Inf": f.count };
	BOUNDS.forEach((bound, i) => (buckets[String(bound)] = f.buckets[i] ?? 0));
	return [
		...[...f.statuses].map(([status, n]): Sample => ({
			name: "apigw_requests",
			type: "gauge",
			labels: { route, status },
			value: n,
			timestamp: now,
		})),
		{
			name: "apigw_request_duration_ms",
			type: "histogram",
			labels: { route },
			buckets,
			count: f.count,
			sum: f.sum,
			timestamp: now,
		},
	];
}
