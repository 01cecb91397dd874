/** A small seeded generator (mulberry32) for reproducible random arrival sequences. */
export function seeded(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

export type Arrival = { at: number; cost: number };

/**
 * Increasing arrival times: mostly random gaps up to `maxGapMs`, with bursts of simultaneous
 * requests and now and then a long pause, each costing 1..maxCost.
 */
export function arrivals(random: () => number, count: number, start: number, maxGapMs: number, maxCost = 1): Arrival[] {
	const out: Arrival[] = [];
	let at = start;
	for (let i = 0; i < count; i++) {
		const roll = random();
		if (roll < 0.3) at += 0;
		else if (roll < 0.95) at += Math.floor(random() * maxGapMs);
		else at += Math.floor(random() * maxGapMs * 40);
		out.push({ at, cost: 1 + Math.floor(random() * maxCost) });
	}
	return out;
}
