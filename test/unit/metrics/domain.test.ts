import { describe, expect, it } from "vitest";
import { canonicalSeries, ingestBody, sampleSchema, timestampProblem } from "../../../src/metrics/domain";

const gauge = { name: "temp_celsius", labels: { site: "a" }, type: "gauge", value: 21.5 };
const histogram = {
	name: "latency_seconds",
	labels: {},
	type: "histogram",
	buckets: { "0.1": 2, "0.5": 5, "+Inf": 6 },
	sum: 1.9,
	count: 6,
};

function issues(sample: unknown): string[] {
	const result = sampleSchema.safeParse(sample);
	return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("metric samples", () => {
	it("accepts a gauge, a counter and a histogram", () => {
		expect(issues(gauge)).toEqual([]);
		expect(issues({ ...gauge, type: "counter", value: 3 })).toEqual([]);
		expect(issues(histogram)).toEqual([]);
	});

	it("rejects names and label names outside Prometheus' rules", () => {
		expect(issues({ ...gauge, name: "9lives" })).toHaveLength(1);
		expect(issues({ ...gauge, name: "has-dash" })).toHaveLength(1);
		expect(issues({ ...gauge, name: "ns:sub_total" })).toEqual([]);
		expect(issues({ ...gauge, labels: { "bad-label": "x" } })).toHaveLength(1);
		expect(issues({ ...gauge, labels: { __name__: "x" } })[0]).toContain("reserved");
		expect(issues({ ...gauge, labels: { "a:b": "x" } })).toHaveLength(1);
	});

	it("caps labels at 16 and values at 256 characters", () => {
		const labels = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, "v"]));
		expect(issues({ ...gauge, labels })[0]).toContain("at most 16 labels");
		expect(issues({ ...gauge, labels: { a: "x".repeat(257) } })).toHaveLength(1);
		expect(issues({ ...gauge, labels: { a: "x".repeat(256) } })).toEqual([]);
	});

	it("rejects negative counters, missing values and inconsistent histograms", () => {
		expect(issues({ ...gauge, type: "counter", value: -1 })[0]).toContain("never negative");
		expect(issues({ name: "x", type: "gauge" })[0]).toContain("need a value");
		expect(issues({ ...histogram, buckets: { "0.1": 2 } })[0]).toContain("+Inf");
		expect(issues({ ...histogram, count: 7 })[0]).toContain("equal count");
		expect(issues({ ...histogram, buckets: { "0.1": 5, "0.5": 2, "+Inf": 6 } })[0]).toContain("not decrease");
		expect(issues({ ...histogram, buckets: { abc: 1, "+Inf": 6 } })).toHaveLength(1);
	});

	it("takes at most 1,000 samples per request", () => {
		expect(ingestBody.safeParse({ samples: Array.from({ length: 1000 }, () => gauge) }).success).toBe(true);
		expect(ingestBody.safeParse({ samples: Array.from({ length: 1001 }, () => gauge) }).success).toBe(false);
		expect(ingestBody.safeParse({ samples: [] }).success).toBe(false);
	});

	it("names a series by its name and labels in label order", () => {
		expect(canonicalSeries("up", { b: "2", a: "1" })).toBe(canonicalSeries("up", { a: "1", b: "2" }));
		expect(canonicalSeries("up", { a: "1" })).not.toBe(canonicalSeries("up", { a: "2" }));
		expect(canonicalSeries("up", {})).toBe("up{}");
	});

	it("refuses timestamps older than raw retention or far in the future", () => {
		const now = 1_800_000_000_000;
		expect(timestampProblem(now, now, 86_400_000)).toBeNull();
		expect(timestampProblem(now - 86_400_001, now, 86_400_000)).toContain("older");
		expect(timestampProblem(now + 11 * 60_000, now, 86_400_000)).toContain("future");
	});
});
