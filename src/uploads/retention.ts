import type { RetentionTarget } from "../platform/retention";
import { expiredBefore } from "../platform/retention";
import { purgeEndedUploads } from "./db";

/**
 * Uploads that ended without a file (expired, terminated — including those consumed as a
 * recording artifact — and failed creations) are kept UPLOADS_RETENTION_DAYS after they ended;
 * their TusUpload objects clear their own storage by alarm at the same time. Complete uploads are
 * the tenant's files (recording sources): kept until terminated.
 */
export function uploadRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "uploads_ended",
			cutoff: expiredBefore(now, env.UPLOADS_RETENTION_DAYS),
			purge: (cutoff, limit) => purgeEndedUploads(env.DB, cutoff, limit),
		},
	];
}
