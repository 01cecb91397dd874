/** Nearest-rank percentile of unsorted samples; null for no samples. */
export function percentile(samples: readonly number[], p: number): number | null {
	if (samples.length === 0) return null;
	const sorted = [...samples].sort((a, b) => a - b);
	const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
	return sorted[rank - 1] ?? null;
}
