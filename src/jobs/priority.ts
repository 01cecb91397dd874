import type { Priority } from "./domain";

/**
 * Smooth weighted round-robin for high : medium : low = 5 : 3 : 1. Any 9 consecutive slots hold
 * 5 high, 3 medium and 1 low, so with a backlog of all three, low still gets one run in nine.
 */
export const PRIORITY_PATTERN: readonly Priority[] = [
	"high",
	"medium",
	"high",
	"low",
	"high",
	"medium",
	"high",
	"medium",
	"high",
];

/** How many of `n` claims go to each priority, starting at slot `offset` of the pattern. */
export function splitClaims(n: number, offset: number): Record<Priority, number> {
	const split: Record<Priority, number> = { high: 0, medium: 0, low: 0 };
	for (let i = 0; i < n; i++) {
		const slot = PRIORITY_PATTERN[(offset + i) % PRIORITY_PATTERN.length];
		if (slot) split[slot] += 1;
	}
	return split;
}

/**
 * The order to fill claims when some priorities have fewer ready jobs than their share: first
 * each priority's share, then what is left goes to the others, highest first.
 */
export function fillOrder(): readonly Priority[] {
	return ["high", "medium", "low"];
}

/**
 * Where each priority's next jobs fall in the pattern, counted from slot `offset`: the k-th ready
 * job of priority p is served at position `PRIORITY_PATTERN.length * floor(k / c) + slots[p][k % c]`
 * (c = p's slots per cycle). Taking the n smallest positions among all ready jobs claims by
 * 5 : 3 : 1, and a priority with too few ready jobs leaves its positions to the others.
 */
export function slotPositions(offset: number): Record<Priority, number[]> {
	const slots: Record<Priority, number[]> = { high: [], medium: [], low: [] };
	for (let i = 0; i < PRIORITY_PATTERN.length; i++) {
		const slot = PRIORITY_PATTERN[(offset + i) % PRIORITY_PATTERN.length];
		if (slot) slots[slot].push(i);
	}
	return slots;
}

/** The position of the k-th (from 0) ready job of a priority, as slotPositions lays them out. */
export function positionOf(slots: Record<Priority, number[]>, priority: Priority, k: number): number {
	const mine = slots[priority];
	return PRIORITY_PATTERN.length * Math.floor(k / mine.length) + (mine[k % mine.length] ?? 0);
}
