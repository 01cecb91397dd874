import { AppError } from "../platform/errors";
import { newId, sha256Hex } from "../platform/crypto";
import { chunk, groupForSendBatch } from "../platform/queue-limits";
import { expiredBefore } from "../platform/retention";
import type { MetricsMessage, QueuedSample, Sample } from "./domain";
import { canonicalSeries, METRIC_LIMITS, sampleValue, timestampProblem } from "./domain";
import type { NewSeries } from "./db";
import { countSeries, existingSeries, insertSeries } from "./db";
import { countIngested } from "./middleware";

export type IngestResult = { accepted: number; messages: number; new_series: number };

/**
 * Checks timestamps and the tenant's series cap, records new series, and enqueues the samples
 * (25 per message, sendBatch calls within 100 messages / 256 KB). Nothing is enqueued when any
 * check fails. Two concurrent requests may each pass the cap check: the cap can be overshot by
 * one request's new series, never more.
 */
export async function ingestSamples(
	env: Env,
	tenantId: string,
	samples: readonly Sample[],
	now: number,
): Promise<IngestResult> {
	const rawRetentionMs = now - expiredBefore(now, env.METRICS_RAW_RETENTION_DAYS);
	const fields = samples.flatMap((s, i) => {
		const problem = timestampProblem(s.timestamp ?? now, now, rawRetentionMs);
		return problem ? [{ path: `samples.${i}.timestamp`, message: problem }] : [];
	});
	const first = fields[0];
	if (first) throw new AppError(400, "validation_failed", `Invalid json: ${first.path}: ${first.message}`, { fields });

	const series = new Map<string, NewSeries>();
	const queued: QueuedSample[] = [];
	for (const s of samples) {
		const seriesId = (await sha256Hex(canonicalSeries(s.name, s.labels))).slice(0, 32);
		if (!series.has(seriesId))
			series.set(seriesId, { seriesId, name: s.name, labels: JSON.stringify(s.labels), type: s.type });
		queued.push({ series_id: seriesId, ts: s.timestamp ?? now, value: sampleValue(s), buckets: s.buckets ?? null });
	}
	const known = await existingSeries(env.DB, tenantId, [...series.keys()]);
	const fresh = [...series.values()].filter((s) => !known.has(s.seriesId));
	if (fresh.length > 0) {
		const cap = Number(env.METRICS_MAX_SERIES);
		const current = await countSeries(env.DB, tenantId);
		if (current + fresh.length > cap) {
			throw new AppError(
				422,
				"cardinality_exceeded",
				`This request would create ${fresh.length} new series; the tenant has ${current} of its cap of ${cap} distinct series (name + labels).`,
				{ cap, current, new_series: fresh.length },
			);
		}
		await insertSeries(env.DB, tenantId, fresh, now);
	}

	const bodies: MetricsMessage[] = chunk(queued, METRIC_LIMITS.samplesPerMessage).map((part) => ({
		id: newId("mb"),
		tenant_id: tenantId,
		samples: part,
	}));
	for (const group of groupForSendBatch(bodies)) {
		await env.METRICS_QUEUE.sendBatch(group.map((body) => ({ body, contentType: "json" })));
	}
	countIngested(samples.length);
	return { accepted: samples.length, messages: bodies.length, new_series: fresh.length };
}
