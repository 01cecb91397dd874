import type { RetentionTarget } from "../platform/retention";
import { purgeClickMessages } from "./clicks-db";

/** A click message is redelivered for at most ~25 minutes (10 retries, 5-minute cap), so 7 days of ledger is ample. */
const CLICK_LEDGER_MS = 7 * 86_400_000;

/** The click ledger's old ids; links and their counters are the tenant's and are never expired. */
export function shortenerRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "shortener.click_ledger",
			cutoff: now - CLICK_LEDGER_MS,
			purge: (cutoff, limit) => purgeClickMessages(env.DB, cutoff, limit),
		},
	];
}
