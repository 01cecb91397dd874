import { describe, expect, it } from "vitest";
import {
	canonicalJson,
	canonicalParams,
	DAY_MS,
	decodeListCursor,
	encodeListCursor,
	HISTORICAL_TTL_MS,
	LIVE_TTL_MS,
	planChunks,
	progress,
	REPORT_TYPES,
	reportIdSeed,
	resultTtlMs,
	toCsv,
} from "../../../src/reports/domain";

describe("report params", () => {
	it("accepts a valid range and rejects reversed, too long and malformed ones with field paths", () => {
		const schema = REPORT_TYPES.truck_distance.params;
		expect(schema.safeParse({ from: "2026-01-01", to: "2026-01-31" }).success).toBe(true);
		const reversed = schema.safeParse({ from: "2026-02-01", to: "2026-01-01" });
		expect(reversed.success).toBe(false);
		expect(reversed.error?.issues[0]?.path).toEqual(["to"]);
		expect(schema.safeParse({ from: "2026-01-01", to: "2026-04-02" }).success).toBe(true);
		expect(schema.safeParse({ from: "2026-01-01", to: "2026-04-03" }).success).toBe(false);
		expect(schema.safeParse({ from: "2026-13-01", to: "2026-01-01" }).success).toBe(false);
		expect(schema.safeParse({ from: "2026-01-01", to: "2026-01-02", extra: 1 }).success).toBe(false);
		expect(REPORT_TYPES.job_latency.params.safeParse({ from: "2026-01-01", to: "2026-02-01" }).success).toBe(false);
	});
});

describe("report identity", () => {
	it("gives equal text for params equal up to key order, id order and duplicates", () => {
		const a = canonicalJson(canonicalParams({ from: "2026-01-01", to: "2026-01-02", truck_ids: ["b", "a", "b"] }));
		const b = canonicalJson(canonicalParams({ truck_ids: ["a", "b"], to: "2026-01-02", from: "2026-01-01" }));
		expect(a).toBe(b);
		expect(a).toBe('{"from":"2026-01-01","to":"2026-01-02","truck_ids":["a","b"]}');
	});

	it("keeps a seed within the type's bucket and changes it in the next one", () => {
		const bucket = REPORT_TYPES.truck_distance.bucketMs;
		const start = 100 * bucket;
		const seed = (now: number) => reportIdSeed("t", "k", "truck_distance", "{}", now);
		expect(seed(start)).toBe(seed(start + bucket - 1));
		expect(seed(start)).not.toBe(seed(start + bucket));
		expect(reportIdSeed("t", "k2", "truck_distance", "{}", start)).not.toBe(seed(start));
	});
});

describe("chunks, TTL, progress", () => {
	it("plans one chunk per UTC day, both ends included", () => {
		const chunks = planChunks({ from: "2026-03-01", to: "2026-03-03" });
		expect(chunks.map((c) => c.index)).toEqual([0, 1, 2]);
		expect(chunks[0]?.startMs).toBe(Date.parse("2026-03-01T00:00:00Z"));
		expect(chunks[2]?.endMs).toBe(Date.parse("2026-03-04T00:00:00Z"));
		expect(planChunks({ from: "2026-03-01", to: "2026-03-01" })).toHaveLength(1);
	});

	it("caches a past range for a day and a range touching today for minutes", () => {
		const now = Date.parse("2026-03-10T12:00:00Z");
		expect(resultTtlMs({ from: "2026-03-01", to: "2026-03-09" }, now)).toBe(HISTORICAL_TTL_MS);
		expect(resultTtlMs({ from: "2026-03-01", to: "2026-03-10" }, now)).toBe(LIVE_TTL_MS);
		expect(resultTtlMs({ from: "2026-03-01", to: "2026-03-10" }, now + DAY_MS)).toBe(HISTORICAL_TTL_MS);
	});

	it("reports progress as chunks done over chunks", () => {
		expect(progress(0, 4)).toBe(0);
		expect(progress(3, 4)).toBe(0.75);
		expect(progress(4, 4)).toBe(1);
	});
});

describe("CSV and cursors", () => {
	it("quotes fields with commas, quotes and newlines and leaves nulls empty", () => {
		expect(
			toCsv(
				["a", "b"],
				[
					["x,y", 'say "hi"'],
					[null, 2],
				],
			),
		).toBe('a,b\r\n"x,y","say ""hi"""\r\n,2\r\n');
	});

	it("round-trips a list cursor and refuses anything else", () => {
		const id = `rep_${"a".repeat(32)}`;
		expect(decodeListCursor(encodeListCursor(123, id))).toEqual({ createdAt: 123, id });
		expect(decodeListCursor("123.nope")).toBeNull();
	});
});
