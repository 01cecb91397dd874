import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeExpiredDeadLetters } from "../platform/dead-letters-db";
import { purgeExpiredMachineReports, purgeExpiredTruckLocations } from "./retention-db";

/** Points and reports are kept TELEMETRY_RETENTION_DAYS; dead letters DEAD_LETTER_RETENTION_DAYS. */
export function telemetryRetentionTargets(env: Env, now: number): RetentionTarget[] {
	const points = expiredBefore(now, env.TELEMETRY_RETENTION_DAYS);
	return [
		{
			name: "truck_locations",
			cutoff: points,
			purge: (cutoff, limit) => purgeExpiredTruckLocations(env.DB, cutoff, limit),
		},
		{
			name: "machine_reports",
			cutoff: points,
			purge: (cutoff, limit) => purgeExpiredMachineReports(env.DB, cutoff, limit),
		},
		{
			name: "dead_letters",
			cutoff: expiredBefore(now, env.DEAD_LETTER_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeExpiredDeadLetters(env.DB, cutoff, limit),
		},
	];
}
