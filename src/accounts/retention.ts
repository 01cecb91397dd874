import type { RetentionTarget } from "../platform/retention";
import { ACCOUNT_LIMITS } from "./domain";
import { purgeExpiredEmailTokens } from "./email-tokens-db";
import { purgeRetiredKeys } from "./keys-db";
import { purgeEndedSessions, purgeOldRefreshTokens } from "./sessions-db";

const DAY_MS = 86_400_000;
/** Ended sessions stay listed for audit this long; then they and their tokens go. */
const ENDED_SESSION_DAYS = 30;
const RETIRED_KEY_DAYS = 30;

/**
 * Sessions (expired or not) past their absolute end plus 30 days, refresh tokens older than any
 * session can live plus 30 days, signing keys retired 30 days ago, e-mail tokens a day after they expired. Revoked sessions that have not
 * reached their end are kept until then (the list shows live sessions only).
 */
export function accountRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "accounts.refresh_tokens",
			cutoff: now - (ACCOUNT_LIMITS.sessionSeconds * 1000 + ENDED_SESSION_DAYS * DAY_MS),
			purge: (cutoff, limit) => purgeOldRefreshTokens(env.DB, cutoff, limit),
		},
		{
			name: "accounts.sessions",
			cutoff: now - ENDED_SESSION_DAYS * DAY_MS,
			purge: (cutoff, limit) => purgeEndedSessions(env.DB, cutoff, limit),
		},
		{
			name: "accounts.email_tokens",
			cutoff: now - DAY_MS,
			purge: (cutoff, limit) => purgeExpiredEmailTokens(env.DB, cutoff, limit),
		},
		{
			name: "accounts.signing_keys",
			cutoff: now - RETIRED_KEY_DAYS * DAY_MS,
			purge: (cutoff, limit) => purgeRetiredKeys(env.DB, cutoff, limit),
		},
	];
}
