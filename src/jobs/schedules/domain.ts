import { Cron } from "croner";

/**
 * The next occurrence strictly after `after` (ms) of a cron pattern in an IANA time zone, or null
 * if there is none. Occurrences are instants, so a wall-clock time that happens twice when clocks
 * fall back fires once, and one skipped when they spring forward fires at the first valid instant
 * after it (croner's rule); stepping from each fired occurrence never runs one twice or misses one.
 */
export function nextOccurrence(cron: string, timezone: string, after: number): number | null {
	const next = new Cron(cron, { timezone, paused: true }).nextRun(new Date(after));
	return next ? next.getTime() : null;
}

/** Whether croner accepts the pattern and the time zone. */
export function isValidSchedule(cron: string, timezone: string): boolean {
	try {
		// Both throw on what they cannot parse.
		const zone = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
		return new Cron(cron, { timezone: zone, paused: true }).getPattern() !== undefined;
	} catch {
		return false;
	}
}
