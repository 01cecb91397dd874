import { AppError } from "../platform/errors";
import type { SeriesSelector } from "./query-db";
import { seriesStepAggregates, stepAggregates, stepBuckets } from "./query-db";
import type { QueryAgg } from "./query-domain";
import { aggregateSteps, chooseTier, counterRate, pointCount, QUERY_LIMITS } from "./query-domain";
import type { TierName } from "./rollup";
import { histogramQuantile, mergeBuckets } from "./rollup";

export type QueryRequest = SeriesSelector & { fromMs: number; toMs: number; stepMs: number; agg: QueryAgg };
export type QueryAnswer = { tier: TierName; points: { t: number; v: number | null }[] };

/** One aggregated series over [from, to) in steps, read from the coarsest tier the step allows. */
export async function runQuery(db: D1Database, q: QueryRequest): Promise<QueryAnswer> {
	if (q.toMs <= q.fromMs) throw new AppError(400, "validation_failed", "`to` must be after `from`.");
	const points = pointCount(q.fromMs, q.toMs, q.stepMs);
	if (points > QUERY_LIMITS.maxPoints) {
		throw new AppError(
			400,
			"too_many_points",
			`The range and step give ${points} points; at most ${QUERY_LIMITS.maxPoints} per answer: shorten the range or widen the step.`,
			{ points, max_points: QUERY_LIMITS.maxPoints },
		);
	}
	const tier = chooseTier(q.stepMs);
	const w = { tier, fromMs: q.fromMs, toMs: q.toMs, stepMs: q.stepMs };
	let values: (number | null)[];
	if (q.agg === "rate") {
		const rows = await seriesStepAggregates(db, q, w, QUERY_LIMITS.maxRateRows + 1);
		if (rows.length > QUERY_LIMITS.maxRateRows) {
			throw new AppError(
				400,
				"too_many_points",
				`A rate over this match reads more than ${QUERY_LIMITS.maxRateRows} series-steps: narrow the match or widen the step.`,
			);
		}
		values = counterRate(rows, points, q.stepMs);
	} else if (q.agg === "p95") {
		const perStep = new Map<number, Record<string, number>>();
		for (const r of await stepBuckets(db, q, w))
			perStep.set(r.i, mergeBuckets(perStep.get(r.i) ?? null, { [r.le]: r.count }) ?? {});
		values = Array.from({ length: points }, (_, i) => histogramQuantile(0.95, perStep.get(i) ?? null));
	} else {
		values = aggregateSteps(q.agg, await stepAggregates(db, q, w), points);
	}
	return { tier, points: values.map((v, i) => ({ t: q.fromMs + i * q.stepMs, v })) };
}
