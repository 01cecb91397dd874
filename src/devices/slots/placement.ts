/**
 * A machine's place in its zone's night from its registration rank (0 = the zone's first active
 * machine), by the golden-ratio (Kronecker) sequence u(r) = frac(0.5 + r·(√5−1)/2): the first n
 * values of it split [0, 1) into gaps of at most three lengths (the three-distance theorem), so
 * every prefix of a fleet — 10 machines or 100,000 — is spread evenly, and a machine's value never
 * changes when machines are added after it. A zone's machines are dealt into the night's seats in
 * the order of their values, so machines registered together (one site, one bulk call) are spread
 * over the whole window instead of bunched.
 */

/** (√5 − 1) / 2: the golden ratio's fractional part, the most irrational step. */
const GOLDEN = 0.6180339887498949;
const MAX_CACHED_ORDERS = 64;

/** The machine's value in [0, 1): stable forever for a rank. */
export function goldenFraction(rank: number): number {
	const x = 0.5 + rank * GOLDEN;
	return x - Math.floor(x);
}

/**
 * The machine's seat among `count` machines: how many of ranks 0..count-1 have a smaller value
 * (a permutation of 0..count-1). Ranks at or past `count` (a machine the cached fleet does not
 * know yet) get the seat of their value's share of the count.
 */
export function goldenSeat(rank: number, count: number): number {
	if (count <= 0) return 0;
	if (rank >= count || rank < 0) return Math.min(count - 1, Math.floor(goldenFraction(Math.max(0, rank)) * count));
	return seatsFor(count)[rank] ?? 0;
}

/**
 * Star discrepancy of the first n values: the largest gap between the share of values below x and
 * x itself, over x in [0, 1] (for the unit test of the placement's bound).
 */
export function starDiscrepancy(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const n = sorted.length;
	let worst = 0;
	sorted.forEach((v, i) => {
		worst = Math.max(worst, Math.abs((i + 1) / n - v), Math.abs(i / n - v));
	});
	return worst;
}

// Pure data derived from a count (no request state): one permutation per fleet size in use.
const orders = new Map<number, Int32Array>();

function seatsFor(count: number): Int32Array {
	const cached = orders.get(count);
	if (cached) return cached;
	const ranks = Array.from({ length: count }, (_, r) => r).sort((a, b) => goldenFraction(a) - goldenFraction(b));
	const seats = new Int32Array(count);
	ranks.forEach((rank, seat) => {
		seats[rank] = seat;
	});
	if (orders.size >= MAX_CACHED_ORDERS) orders.clear();
	orders.set(count, seats);
	return seats;
}
