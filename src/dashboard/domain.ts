/** The dashboard's pure parts: session timing, same-origin checks, and turning stored samples into series. */

export const SESSION_COOKIE = "fg_session";
export const SESSION_TTL_SECONDS = 3600;
export const MINUTE_MS = 60_000;
/** How far back the charts reach, and the most points one series may carry (one per minute). */
export const SERIES_WINDOW_MINUTES = 60;
/** The most distinct series one scope records per minute (limiter policies are tenant-named). */
export const MAX_SERIES_PER_SCOPE = 48;
/** The SSE stream pushes a snapshot this often and closes after the lifetime (the browser reconnects). */
export const STREAM_INTERVAL_MS = 5_000;
export const STREAM_LIFETIME_MS = 60_000;

export type Point = [minute: number, value: number];
export type Sample = { minute: number; series: string; value: number };

export function minuteOf(ms: number): number {
	return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/**
 * A cookie-authenticated request that changes something must come from this origin: SameSite=Strict
 * already keeps the cookie off cross-site requests, and the Origin check covers same-site subdomains.
 */
export function isSameOrigin(origin: string | undefined, requestUrl: string): boolean {
	if (!origin) return false;
	try {
		return new URL(origin).origin === new URL(requestUrl).origin;
	} catch {
		return false;
	}
}

/**
 * Cumulative counters (an isolate's or D1's running totals) to increase per minute. A drop means
 * the counter restarted (a new isolate): that minute counts the new total, never a negative rate.
 */
export function toRates(points: readonly Point[]): Point[] {
	const rates: Point[] = [];
	for (let i = 1; i < points.length; i++) {
		const [minute, value] = points[i] ?? [0, 0];
		const previous = points[i - 1]?.[1] ?? 0;
		rates.push([minute, value >= previous ? value - previous : value]);
	}
	return rates;
}

/** Stored samples to one sorted series per name; names ending in `_total` become per-minute rates. */
export function seriesFromSamples(samples: readonly Sample[]): Record<string, Point[]> {
	const byName = new Map<string, Point[]>();
	for (const s of samples) {
		const points = byName.get(s.series) ?? [];
		points.push([s.minute, s.value]);
		byName.set(s.series, points);
	}
	const series: Record<string, Point[]> = {};
	for (const [name, points] of byName) {
		points.sort((a, b) => a[0] - b[0]);
		series[name] = name.endsWith("_total") ? toRates(points) : points;
	}
	return series;
}

/** Minute buckets from SQL (only minutes with rows) to a gap-free run from `from` to `to`, zeros filled. */
export function fillMinutes(buckets: readonly Point[], from: number, to: number): Point[] {
	const byMinute = new Map(buckets.map(([m, v]) => [minuteOf(m), v]));
	const out: Point[] = [];
	for (let m = minuteOf(from); m <= minuteOf(to); m += MINUTE_MS) out.push([m, byMinute.get(m) ?? 0]);
	return out;
}

/** The current readings worth keeping per minute, capped so a tenant with many policies stays bounded. */
export function samplesToRecord(readings: Record<string, number>, now: number): Sample[] {
	const minute = minuteOf(now);
	return Object.entries(readings)
		.filter(([, value]) => Number.isFinite(value))
		.sort(([a], [b]) => a.localeCompare(b))
		.slice(0, MAX_SERIES_PER_SCOPE)
		.map(([series, value]) => ({ minute, series, value }));
}

/** A response status to the class the charts stack (429 apart: the gateway limiter's denials). */
export function statusClass(status: number): string {
	if (status === 429) return "429";
	return `${Math.floor(status / 100)}xx`;
}
