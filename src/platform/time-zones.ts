/**
 * Wall-clock arithmetic in IANA time zones with Intl only (no library): what a UTC instant reads
 * on a zone's clocks, and which instant a zone's wall-clock time is.
 */

export type WallTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const DAY_MS = 86_400_000;

// Formatters are plain immutable objects and costly to build: one per zone per isolate.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** What the clocks of `timeZone` read at `utcMs`. */
export function wallTimeAt(timeZone: string, utcMs: number): WallTime {
	const fields: Record<string, number> = {};
	for (const part of formatterFor(timeZone).formatToParts(utcMs)) {
		if (part.type !== "literal") fields[part.type] = Number(part.value);
	}
	return {
		year: fields.year ?? 0,
		month: fields.month ?? 1,
		day: fields.day ?? 1,
		// Some engines print midnight as 24 even with h23.
		hour: (fields.hour ?? 0) % 24,
		minute: fields.minute ?? 0,
		second: fields.second ?? 0,
	};
}

/** The zone's offset from UTC at `utcMs`, in ms (e.g. -4 h for New York in summer). */
export function offsetAt(timeZone: string, utcMs: number): number {
	const whole = Math.floor(utcMs / 1000) * 1000;
	const w = wallTimeAt(timeZone, whole);
	return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** The zone's calendar date at `utcMs`, as YYYY-MM-DD. */
export function localDateAt(timeZone: string, utcMs: number): string {
	const w = wallTimeAt(timeZone, utcMs);
	return formatDate(w.year, w.month, w.day);
}

/**
 * The instant at which the zone's clocks read `minuteOfDay` minutes after midnight starting the
 * local date `date` (minutes past 1440 run into the next days). Disambiguation as Temporal's
 * "compatible": a time skipped by a spring-forward gap maps to the same distance after the gap; a
 * time repeated by a fall-back maps to its first occurrence. So every wall time has exactly one instant.
 */
export function instantOfWallTime(timeZone: string, date: string, minuteOfDay: number): number {
	const [y, m, d] = parseDate(date);
	const wallMs = Date.UTC(y, m - 1, d, 0, minuteOfDay);
	const before = offsetAt(timeZone, wallMs - DAY_MS);
	const after = offsetAt(timeZone, wallMs + DAY_MS);
	const candidates = [wallMs - before, wallMs - after].filter((utc) => offsetAt(timeZone, utc) === wallMs - utc);
	if (candidates.length > 0) return Math.min(...candidates);
	// In a gap: read with the offset in force before the transition, which lands after the gap.
	return wallMs - before;
}

/** `date` (YYYY-MM-DD) plus `days` calendar days. */
export function addDays(date: string, days: number): string {
	const [y, m, d] = parseDate(date);
	const t = new Date(Date.UTC(y, m - 1, d + days));
	return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

export function parseDate(date: string): [number, number, number] {
	const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
	if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
	return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function formatDate(year: number, month: number, day: number): string {
	return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
	let formatter = formatters.get(timeZone);
	if (!formatter) {
		formatter = new Intl.DateTimeFormat("en-US", {
			timeZone,
			hourCycle: "h23",
			year: "numeric",
			month: "numeric",
			day: "numeric",
			hour: "numeric",
			minute: "numeric",
			second: "numeric",
		});
		if (formatters.size > 1000) formatters.clear();
		formatters.set(timeZone, formatter);
	}
	return formatter;
}
