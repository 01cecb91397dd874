/**
 * A mergeable latency histogram with relative accuracy (the DDSketch idea): a value v > 0 falls in
 * bucket ceil(log_gamma(v)), so any quantile read back is within 1% of a true sample. Chunks each
 * keep one and they merge by adding counts, which exact percentiles (all samples) could not do
 * within a row's size.
 */
export type Sketch = { zeros: number; buckets: Record<string, number> };

const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);

export function emptySketch(): Sketch {
	return { zeros: 0, buckets: {} };
}

export function addToSketch(sketch: Sketch, value: number): void {
	if (value <= 1) {
		sketch.zeros += 1;
		return;
	}
	const key = String(Math.ceil(Math.log(value) / LOG_GAMMA));
	sketch.buckets[key] = (sketch.buckets[key] ?? 0) + 1;
}

export function mergeSketches(into: Sketch, from: Sketch): void {
	into.zeros += from.zeros;
	for (const [key, n] of Object.entries(from.buckets)) into.buckets[key] = (into.buckets[key] ?? 0) + n;
}

export function sketchCount(sketch: Sketch): number {
	return Object.values(sketch.buckets).reduce((a, b) => a + b, sketch.zeros);
}

/** The p-th percentile (nearest rank), rounded to whole units; null for an empty sketch. */
export function sketchPercentile(sketch: Sketch, p: number): number | null {
	const total = sketchCount(sketch);
	if (total === 0) return null;
	const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
	let seen = sketch.zeros;
	if (seen >= rank) return 0;
	const keys = Object.keys(sketch.buckets)
		.map(Number)
		.sort((a, b) => a - b);
	for (const key of keys) {
		seen += sketch.buckets[String(key)] ?? 0;
		// The bucket's midpoint in relative terms: within (GAMMA - 1) / (GAMMA + 1) of any value in it.
		if (seen >= rank) return Math.round((2 * GAMMA ** key) / (GAMMA + 1));
	}
	return null;
}
