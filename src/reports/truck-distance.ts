/** truck_distance's pure part: haversine distance, moving and idle time of one truck in one day. */

export type TruckPoint = { recorded_at: number; lat: number; lng: number };

/** A truck's running aggregate over one day, carried in the chunk's cursor between pages. */
export type TruckDay = {
	points: number;
	distance_m: number;
	moving_ms: number;
	idle_ms: number;
	max_speed_kmh: number;
	last: TruckPoint | null;
};

export type TruckDayRow = {
	day: string;
	truck_id: string;
	points: number;
	distance_km: number;
	moving_s: number;
	idle_s: number;
	avg_speed_kmh: number | null;
	max_speed_kmh: number;
};

export const TRUCK_COLUMNS = [
	"day",
	"truck_id",
	"points",
	"distance_km",
	"moving_s",
	"idle_s",
	"avg_speed_kmh",
	"max_speed_kmh",
] as const;

/** Consecutive points further apart than this are a gap (no data), counted neither moving nor idle. */
export const MAX_SEGMENT_MS = 10 * 60_000;
/** Below this speed a segment is idle (GPS jitter of a parked truck is not distance). */
export const IDLE_BELOW_KMH = 3;
/** A segment faster than this is a bad fix and ignored. */
export const MAX_PLAUSIBLE_KMH = 250;

const EARTH_RADIUS_M = 6_371_008.8;

export function haversineMeters(a: TruckPoint, b: TruckPoint): number {
	const rad = Math.PI / 180;
	const dLat = (b.lat - a.lat) * rad;
	const dLng = (b.lng - a.lng) * rad;
	const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
	return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function emptyTruckDay(): TruckDay {
	return { points: 0, distance_m: 0, moving_ms: 0, idle_ms: 0, max_speed_kmh: 0, last: null };
}

/** Adds points (in recorded_at order, after `day.last`) to the day's aggregate, in place. */
export function foldTruckPoints(day: TruckDay, points: readonly TruckPoint[]): TruckDay {
	for (const p of points) {
		const prev = day.last;
		day.points += 1;
		day.last = { recorded_at: p.recorded_at, lat: p.lat, lng: p.lng };
		if (!prev) continue;
		const dt = p.recorded_at - prev.recorded_at;
		if (dt <= 0 || dt > MAX_SEGMENT_MS) continue;
		const meters = haversineMeters(prev, p);
		const kmh = meters / 1000 / (dt / 3_600_000);
		if (kmh > MAX_PLAUSIBLE_KMH) continue;
		if (kmh < IDLE_BELOW_KMH) {
			day.idle_ms += dt;
			continue;
		}
		day.distance_m += meters;
		day.moving_ms += dt;
		day.max_speed_kmh = Math.max(day.max_speed_kmh, kmh);
	}
	return day;
}

export function truckDayRow(dayStartMs: number, truckId: string, day: TruckDay): TruckDayRow {
	return {
		day: new Date(dayStartMs).toISOString().slice(0, 10),
		truck_id: truckId,
		points: day.points,
		distance_km: round(day.distance_m / 1000, 3),
		moving_s: Math.round(day.moving_ms / 1000),
		idle_s: Math.round(day.idle_ms / 1000),
		avg_speed_kmh: day.moving_ms > 0 ? round(day.distance_m / 1000 / (day.moving_ms / 3_600_000), 1) : null,
		max_speed_kmh: round(day.max_speed_kmh, 1),
	};
}

export function round(value: number, digits: number): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}
