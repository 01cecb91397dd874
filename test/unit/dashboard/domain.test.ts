import { describe, expect, it } from "vitest";
import {
	fillMinutes,
	isSameOrigin,
	MAX_SERIES_PER_SCOPE,
	samplesToRecord,
	seriesFromSamples,
	statusClass,
	toRates,
} from "../../../src/dashboard/domain";

const M = 60_000;

describe("dashboard domain", () => {
	it("turns running totals into per-minute increases, counting a restart's new total", () => {
		expect(
			toRates([
				[0, 5],
				[M, 8],
				[2 * M, 8],
				[3 * M, 2],
			]),
		).toEqual([
			[M, 3],
			[2 * M, 0],
			[3 * M, 2],
		]);
		expect(toRates([[0, 5]])).toEqual([]);
	});

	it("groups samples per series, sorted, rates only for _total names", () => {
		const series = seriesFromSamples([
			{ minute: M, series: "http_2xx_total", value: 10 },
			{ minute: 0, series: "http_2xx_total", value: 4 },
			{ minute: M, series: "queue_jobs_waiting", value: 7 },
		]);
		expect(series).toEqual({ http_2xx_total: [[M, 6]], queue_jobs_waiting: [[M, 7]] });
	});

	it("fills missing minutes with zeros between two instants", () => {
		expect(fillMinutes([[M + 5, 3]], 0, 2 * M + 10)).toEqual([
			[0, 0],
			[M, 3],
			[2 * M, 0],
		]);
	});

	it("keeps at most MAX_SERIES_PER_SCOPE finite readings in this minute", () => {
		const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`s${i}`, i]));
		const samples = samplesToRecord({ ...many, bad: Number.NaN }, 90_500);
		expect(samples).toHaveLength(MAX_SERIES_PER_SCOPE);
		expect(samples.every((s) => s.minute === M && s.series !== "bad")).toBe(true);
	});

	it("accepts only the request's own origin", () => {
		expect(isSameOrigin("https://a.example", "https://a.example/api/v1/x")).toBe(true);
		expect(isSameOrigin("https://b.example", "https://a.example/api/v1/x")).toBe(false);
		expect(isSameOrigin("http://a.example", "https://a.example/x")).toBe(false);
		expect(isSameOrigin(undefined, "https://a.example/x")).toBe(false);
		expect(isSameOrigin("null", "https://a.example/x")).toBe(false);
	});

	it("classes statuses, keeping the limiter's 429 apart", () => {
		expect([200, 201, 404, 429, 503].map(statusClass)).toEqual(["2xx", "2xx", "4xx", "429", "5xx"]);
	});
});
