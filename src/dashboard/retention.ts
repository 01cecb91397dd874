import type { RetentionTarget } from "../platform/retention";
import { purgeExpiredSessions } from "./session-db";
import { purgeOldSamples } from "./samples-db";

/** Charted samples are kept a day (the charts show the last hour); sessions go once expired. */
const SAMPLE_RETENTION_MS = 86_400_000;

export function dashboardRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{ name: "dashboard.sessions", cutoff: now, purge: (cutoff, limit) => purgeExpiredSessions(env.DB, cutoff, limit) },
		{
			name: "dashboard.samples",
			cutoff: now - SAMPLE_RETENTION_MS,
			purge: (cutoff, limit) => purgeOldSamples(env.DB, cutoff, limit),
		},
	];
}
