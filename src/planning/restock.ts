/**
 * Restock math for one machine's report: which slots are low and how many units fill them. Pure,
 * so the report consumer can run it per report (incrementally) instead of a nightly batch job.
 */

export type InventoryLine = { slot: string | number; sku: string; count: number; capacity: number };
export type RestockNeed = { slot: string; sku: string; count: number; capacity: number; quantity: number };
export type RestockThresholds = {
	/** A slot at or below this share of its capacity gets refilled (0.25 = a quarter full or less). */
	refillAtFraction: number;
	/** Refills smaller than this are not worth a stop. */
	minQuantity: number;
};

export const DEFAULT_RESTOCK_THRESHOLDS: RestockThresholds = { refillAtFraction: 0.25, minQuantity: 1 };

/** The slots to refill, to full capacity, in slot order; a slot listed twice counts as its last line. */
export function planRestock(
	inventory: readonly InventoryLine[],
	thresholds: RestockThresholds = DEFAULT_RESTOCK_THRESHOLDS,
): RestockNeed[] {
	const bySlot = new Map<string, InventoryLine>();
	for (const line of inventory) bySlot.set(String(line.slot), line);
	const needs: RestockNeed[] = [];
	for (const [slot, line] of bySlot) {
		if (!(line.capacity > 0)) continue;
		const count = Math.max(0, Math.min(line.count, line.capacity));
		const quantity = line.capacity - count;
		if (count <= line.capacity * thresholds.refillAtFraction && quantity >= thresholds.minQuantity) {
			needs.push({ slot, sku: line.sku, count, capacity: line.capacity, quantity });
		}
	}
	return needs.sort((a, b) => a.slot.localeCompare(b.slot, "en", { numeric: true }));
}
