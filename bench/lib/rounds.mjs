// Paired rounds: the ratio of two load phases (a subject route against its baseline) on a shared
// machine whose speed drifts from second to second.

/**
 * Runs `rounds` rounds of the two sides in ABBA order (baseline, subject, subject, baseline), each
 * phase `seconds / 2` long, so every side gets `seconds` per round and a drift that is linear over
 * the round hits both sides alike (plain alternation, AB AB, gives the later side of each round the
 * drift in full: a round of one run read 0.66 and the next 1.19). A round's ratio is the subject's
 * requests per second over the baseline's, each summed over its two phases. `baseline(duration)`
 * and `subject(duration)` drive a load phase and return lib/load.mjs drive()'s result.
 * @returns {Promise<{ ratios: number[], baseline: object[], subject: object[] }>} every phase's result, in order
 */
export async function pairedRounds({ rounds, seconds, baseline, subject }) {
	const phase = seconds / 2;
	const ratios = [];
	const baselineRuns = [];
	const subjectRuns = [];
	for (let round = 0; round < rounds; round++) {
		const b1 = await baseline(phase);
		const s1 = await subject(phase);
		const s2 = await subject(phase);
		const b2 = await baseline(phase);
		baselineRuns.push(b1, b2);
		subjectRuns.push(s1, s2);
		ratios.push((s1.rps + s2.rps) / (b1.rps + b2.rps));
	}
	return { ratios, baseline: baselineRuns, subject: subjectRuns };
}

export function median(values) {
	const sorted = [...values].sort((x, y) => x - y);
	return ((sorted[Math.floor((sorted.length - 1) / 2)] ?? 0) + (sorted[Math.ceil((sorted.length - 1) / 2)] ?? 0)) / 2;
}
