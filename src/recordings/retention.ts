import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { deleteOldestRows } from "../platform/sql-db";

/**
 * Recording events (what the SSE stream replays) are kept RECORDINGS_EVENTS_RETENTION_DAYS.
 * Recordings and artifacts are the tenant's data: kept until deleted (DELETE /api/v1/recordings/{id}).
 */
export function recordingRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "recording_events",
			cutoff: expiredBefore(now, env.RECORDINGS_EVENTS_RETENTION_DAYS),
			purge: (cutoff, limit) => deleteOldestRows(env.DB, "recording_events", "created_at", cutoff, limit),
		},
	];
}
