import { Cron } from "croner";

/** A schedule fires at most once per this interval (a 5-field cron cannot fire more often). */
export const MIN_INTERVAL_MS = 60_000;
/** Occurrences looked at when checking the interval. */
const INTERVAL_SAMPLE = 5;
/** A failed alarm is tried again after 10 s, doubling per consecutive failure, at most 10 minutes. */
export const ALARM_RETRY_BASE_MS = 10_000;
export const ALARM_RETRY_MAX_MS = 10 * 60_000;

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

/** Whether croner accepts the pattern and the time zone (any number of fields). */
export function isValidSchedule(cron: string, timezone: string): boolean {
	try {
		// Both throw on what they cannot parse.
		const zone = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
		return new Cron(cron, { timezone: zone, paused: true }).getPattern() !== undefined;
	} catch {
		return false;
	}
}

/**
 * What is wrong with a schedule's cron and time zone, or null: only 5-field patterns (minute hour
 * day month weekday; a seconds field or a nickname is refused), valid for croner in that zone,
 * and no two of its next occurrences closer than MIN_INTERVAL_MS.
 */
export function scheduleProblem(cron: string, timezone: string, now = Date.now()): string | null {
	const fields = cron.trim().split(/\s+/);
	if (fields.length !== 5)
		return `cron must have exactly 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}; seconds are not supported (the minimum interval is ${MIN_INTERVAL_MS / 1000} s)`;
	if (!isValidSchedule(cron, timezone)) return "not a valid cron pattern and IANA time zone";
	const gap = shortestGapMs(cron, timezone, now);
	if (gap !== null && gap < MIN_INTERVAL_MS)
		return `fires every ${gap / 1000} s; the minimum interval is ${MIN_INTERVAL_MS / 1000} s`;
	return null;
}

/** The shortest gap between the next few occurrences after `from` (null if fewer than two). */
export function shortestGapMs(cron: string, timezone: string, from: number): number | null {
	let gap: number | null = null;
	let previous = nextOccurrence(cron, timezone, from);
	for (let i = 1; i < INTERVAL_SAMPLE && previous !== null; i++) {
		const next = nextOccurrence(cron, timezone, previous);
		if (next === null) break;
		gap = gap === null ? next - previous : Math.min(gap, next - previous);
		previous = next;
	}
	return gap;
}

/** When a schedule's alarm tries again after `failures` consecutive failures (1 = the first). */
export function alarmRetryDelayMs(failures: number): number {
	return Math.min(ALARM_RETRY_MAX_MS, ALARM_RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}
