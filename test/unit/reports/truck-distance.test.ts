import { describe, expect, it } from "vitest";
import {
	emptyTruckDay,
	foldTruckPoints,
	haversineMeters,
	MAX_SEGMENT_MS,
	truckDayRow,
} from "../../../src/reports/truck-distance";

const MIN = 60_000;

describe("haversine", () => {
	it("measures a degree of latitude as about 111.2 km and a point to itself as 0", () => {
		const a = { recorded_at: 0, lat: 52, lng: 13 };
		expect(haversineMeters(a, { ...a, lat: 53 }) / 1000).toBeCloseTo(111.2, 1);
		expect(haversineMeters(a, a)).toBe(0);
		// Berlin → Paris, about 878 km.
		expect(
			haversineMeters({ recorded_at: 0, lat: 52.52, lng: 13.405 }, { recorded_at: 0, lat: 48.8566, lng: 2.3522 }) /
				1000,
		).toBeCloseTo(877.5, 0);
	});
});

describe("a truck's day", () => {
	it("sums moving distance, splits idle time and skips gaps, the same in one page or many", () => {
		const points = [
			{ recorded_at: 0, lat: 50, lng: 10 },
			{ recorded_at: MIN, lat: 50.01, lng: 10 }, // ~1.11 km in a minute: moving, ~66.7 km/h
			{ recorded_at: 2 * MIN, lat: 50.02, lng: 10 },
			{ recorded_at: 7 * MIN, lat: 50.02, lng: 10.00001 }, // parked: idle 5 minutes
			{ recorded_at: 7 * MIN + MAX_SEGMENT_MS + 1, lat: 50.5, lng: 10 }, // a gap: not counted
		];
		const whole = foldTruckPoints(emptyTruckDay(), points);
		expect(whole.points).toBe(5);
		expect(whole.distance_m / 1000).toBeCloseTo(2.224, 2);
		expect(whole.moving_ms).toBe(2 * MIN);
		expect(whole.idle_ms).toBe(5 * MIN);
		expect(whole.max_speed_kmh).toBeCloseTo(66.7, 0);

		const paged = emptyTruckDay();
		for (const p of points) foldTruckPoints(paged, [p]);
		expect(paged).toEqual(whole);

		const row = truckDayRow(Date.parse("2026-01-05T00:00:00Z"), "t1", whole);
		expect(row).toMatchObject({ day: "2026-01-05", truck_id: "t1", points: 5, moving_s: 120, idle_s: 300 });
		expect(row.avg_speed_kmh).toBeCloseTo(66.7, 0);
	});

	it("ignores an implausible jump and a repeated timestamp", () => {
		const day = foldTruckPoints(emptyTruckDay(), [
			{ recorded_at: 0, lat: 50, lng: 10 },
			{ recorded_at: 0, lat: 50.1, lng: 10 },
			{ recorded_at: MIN, lat: 51, lng: 10 }, // ~100 km in a minute
		]);
		expect(day.distance_m).toBe(0);
		expect(day.moving_ms).toBe(0);
		expect(truckDayRow(0, "t", day).avg_speed_kmh).toBeNull();
	});
});
