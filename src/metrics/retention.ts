import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeMetricDeadLetters, purgeRawSamples, purgeRollups } from "./db";
import { TIERS } from "./rollup";

/** Each storage tier's retention ([vars] METRICS_*_RETENTION_DAYS); dead letters DEAD_LETTER_RETENTION_DAYS. */
export function metricsRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "metric_samples",
			cutoff: expiredBefore(now, env.METRICS_RAW_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeRawSamples(env.DB, cutoff, limit),
		},
		{
			name: "metric_rollups_1m",
			cutoff: expiredBefore(now, env.METRICS_1M_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeRollups(env.DB, TIERS["1m"], cutoff, limit),
		},
		{
			name: "metric_rollups_1h",
			cutoff: expiredBefore(now, env.METRICS_1H_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeRollups(env.DB, TIERS["1h"], cutoff, limit),
		},
		{
			name: "metric_dead_letters",
			cutoff: expiredBefore(now, env.DEAD_LETTER_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeMetricDeadLetters(env.DB, cutoff, limit),
		},
	];
}
