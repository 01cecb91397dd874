import { z } from "zod";

/**
 * Metrics samples: Prometheus' name and label rules, the canonical series text, and the message
 * bodies the ingest route enqueues. Pure: no I/O.
 */

export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const METRIC_LIMITS = {
	maxSamplesPerRequest: 1_000,
	maxLabels: 16,
	maxLabelValueLength: 256,
	maxNameLength: 200,
	maxBuckets: 32,
	/** Samples per queue message: with 16 labels of 256 chars a sample is < 5 KB, so < 128 KB. */
	samplesPerMessage: 25,
	/** How far a timestamp may be ahead of the platform's clock. */
	maxFutureMs: 10 * 60_000,
} as const;

export const METRIC_TYPES = ["counter", "gauge", "histogram"] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** Label names checked one by one, so the error names the offending label and the rule it breaks. */
const labels = z
	.record(z.string(), z.string().max(METRIC_LIMITS.maxLabelValueLength))
	.superRefine((l, ctx) => {
		const names = Object.keys(l);
		if (names.length > METRIC_LIMITS.maxLabels)
			ctx.addIssue({ code: "custom", message: `at most ${METRIC_LIMITS.maxLabels} labels` });
		for (const name of names) {
			if (!LABEL_NAME_PATTERN.test(name))
				ctx.addIssue({ code: "custom", path: [name], message: "a label name matches [a-zA-Z_][a-zA-Z0-9_]*" });
			else if (name.startsWith("__"))
				ctx.addIssue({ code: "custom", path: [name], message: "label names starting with __ are reserved" });
		}
	})
	.default({});
const le = z.string().refine((v) => v === "+Inf" || Number.isFinite(Number(v)), "an le is a number or +Inf");

export const sampleSchema = z
	.object({
		name: z
			.string()
			.max(METRIC_LIMITS.maxNameLength)
			.regex(METRIC_NAME_PATTERN, "a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*"),
		labels,
		type: z.enum(METRIC_TYPES),
		value: z.number().finite().optional(),
		timestamp: z.number().int().positive().optional().describe("Milliseconds since the epoch; default: now."),
		buckets: z.record(le, z.number().int().nonnegative()).optional(),
		sum: z.number().finite().optional(),
		count: z.number().int().nonnegative().optional(),
	})
	.strict()
	.superRefine((s, ctx) => {
		if (s.type !== "histogram") {
			if (s.value === undefined)
				ctx.addIssue({ code: "custom", message: "counters and gauges need a value", path: ["value"] });
			if (s.type === "counter" && s.value !== undefined && s.value < 0)
				ctx.addIssue({ code: "custom", message: "a counter is never negative", path: ["value"] });
			if (s.buckets !== undefined)
				ctx.addIssue({ code: "custom", message: "only histograms have buckets", path: ["buckets"] });
			return;
		}
		const problem = histogramProblem(s.buckets, s.count, s.sum);
		if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["buckets"] });
	});
export type Sample = z.output<typeof sampleSchema>;

export const ingestBody = z
	.object({ samples: z.array(sampleSchema).min(1).max(METRIC_LIMITS.maxSamplesPerRequest) })
	.strict();

/** A sample as it travels through the queue: its series resolved, its time fixed. */
export const queuedSampleSchema = z.object({
	series_id: z.string().length(32),
	ts: z.number().int(),
	value: z.number(),
	buckets: z.record(z.string(), z.number()).nullable(),
});
export type QueuedSample = z.output<typeof queuedSampleSchema>;

export const metricsMessageSchema = z.object({
	id: z.string().min(1).max(64),
	tenant_id: z.string().min(1),
	samples: z.array(queuedSampleSchema).min(1).max(METRIC_LIMITS.samplesPerMessage),
});
export type MetricsMessage = z.output<typeof metricsMessageSchema>;

/** `name{a="1",b="2"}` with labels sorted by name: the text a series id is the hash of. */
export function canonicalSeries(name: string, labelSet: Readonly<Record<string, string>>): string {
	const parts = Object.keys(labelSet)
		.sort()
		.map((k) => `${k}=${JSON.stringify(labelSet[k])}`);
	return `${name}{${parts.join(",")}}`;
}

/** The stored value of a sample: a histogram's is its sum (its buckets carry the distribution). */
export function sampleValue(s: Sample): number {
	return s.type === "histogram" ? (s.sum ?? 0) : (s.value ?? 0);
}

/** Why a sample's timestamp cannot be stored (older than raw retention or from the future), or null. */
export function timestampProblem(ts: number, now: number, rawRetentionMs: number): string | null {
	if (ts > now + METRIC_LIMITS.maxFutureMs) return "more than 10 minutes in the future";
	if (ts < now - rawRetentionMs) return "older than the raw tier's retention";
	return null;
}

/**
 * Histogram buckets follow Prometheus' `le` convention (each count is of observations <= le, so
 * counts never decrease with le) and end in `+Inf` equal to `count`. A sample holds the
 * observations of its reporting interval (a delta), so merging samples adds their buckets.
 */
function histogramProblem(
	buckets: Record<string, number> | undefined,
	count: number | undefined,
	sum: number | undefined,
): string | null {
	if (!buckets || count === undefined || sum === undefined) return "histograms need buckets, sum and count";
	const entries = sortedBuckets(buckets);
	if (entries.length > METRIC_LIMITS.maxBuckets) return `at most ${METRIC_LIMITS.maxBuckets} buckets`;
	const inf = buckets["+Inf"];
	if (inf === undefined) return "a +Inf bucket is required";
	if (inf !== count) return "the +Inf bucket must equal count";
	let previous = 0;
	for (const [, n] of entries) {
		if (n < previous) return "bucket counts must not decrease as le grows";
		previous = n;
	}
	return null;
}

/** Buckets as [upper bound, cumulative count], ascending by upper bound (+Inf last). */
export function sortedBuckets(buckets: Readonly<Record<string, number>>): [number, number][] {
	return Object.entries(buckets)
		.map(([k, v]): [number, number] => [k === "+Inf" ? Infinity : Number(k), v])
		.sort((a, b) => a[0] - b[0]);
}
