import type { EndpointRow } from "./db";
import { listEndpoints } from "./db";
import { attemptSamples } from "./delivery-db";
import type { HealthFigures } from "./domain";
import { healthFigures } from "./domain";

/** Endpoint health: success rate and latency percentiles over the last day's attempts. */

export const HEALTH_WINDOW_HOURS = 24;
/** Attempts read for GET …/health (newest first). */
export const HEALTH_SAMPLES = 10_000;

export async function endpointHealth(
	db: D1Database,
	tenantId: string,
	endpointId: string,
	now: number,
	samples = HEALTH_SAMPLES,
): Promise<HealthFigures> {
	const since = now - HEALTH_WINDOW_HOURS * 3_600_000;
	const rows = await attemptSamples(db, tenantId, endpointId, since, samples);
	return healthFigures(
		rows.map((s) => ({
			ok: s.status_code !== null && s.status_code >= 200 && s.status_code < 300,
			latencyMs: s.latency_ms,
		})),
	);
}

/**
 * The tenant's first `limit` endpoints (creation order) with their health over at most `samples`
 * newest attempts each: what the dashboard shows, bounded to limit + 1 queries.
 */
export async function endpointsWithHealth(
	db: D1Database,
	tenantId: string,
	now: number,
	limit: number,
	samples: number,
): Promise<{ endpoint: EndpointRow; health: HealthFigures }[]> {
	const endpoints = await listEndpoints(db, tenantId, null, limit);
	return Promise.all(
		endpoints.map(async (endpoint) => ({
			endpoint,
			health: await endpointHealth(db, tenantId, endpoint.id, now, samples),
		})),
	);
}
