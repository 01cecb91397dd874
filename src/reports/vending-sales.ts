import { z } from "zod";

/** vending_sales's pure part: units sold, restocked and stock-outs from consecutive daily reports. */

const slotSchema = z.object({ slot: z.string(), sku: z.string(), count: z.number(), capacity: z.number() });
const inventorySchema = z.array(slotSchema);
type Slot = z.infer<typeof slotSchema>;

export type MachineDay = {
	machine_id: string;
	city: string | null;
	units_sold: number;
	units_restocked: number;
	/** Slots empty in this day's report. */
	stockout_slots: number;
	/** Units missing to fill every slot to capacity at this day's report. */
	restock_units: number;
	/** Whether the previous day's report existed (sales are known only then). */
	compared: boolean;
};

export type SalesTotals = {
	days_reported: number;
	days_compared: number;
	units_sold: number;
	units_restocked: number;
	stockout_slot_days: number;
	restock_units: number;
};

export const SALES_COLUMNS = [
	"level",
	"id",
	"city",
	"machines",
	"days_reported",
	"days_compared",
	"units_sold",
	"units_restocked",
	"stockout_slot_days",
	"restock_units",
] as const;

/** Parses a stored inventory (JSON text written by the telemetry consumer); [] if it is not one. */
export function parseInventory(text: string | null): Slot[] | null {
	if (text === null) return null;
	try {
		const parsed = inventorySchema.safeParse(JSON.parse(text));
		return parsed.success ? parsed.data : [];
	} catch {
		return [];
	}
}

/**
 * A machine's day: a slot whose count fell since the previous day's report sold the difference; one
 * whose count rose was restocked (sales during a restock day are undercounted, as with any
 * end-of-day snapshot). A slot whose SKU changed counts as restocked with its new count.
 */
export function machineDay(
	machineId: string,
	city: string | null,
	today: readonly Slot[],
	yesterday: readonly Slot[] | null,
): MachineDay {
	const before = new Map((yesterday ?? []).map((s) => [s.slot, s]));
	const day: MachineDay = {
		machine_id: machineId,
		city,
		units_sold: 0,
		units_restocked: 0,
		stockout_slots: 0,
		restock_units: 0,
		compared: yesterday !== null,
	};
	for (const slot of today) {
		if (slot.count === 0) day.stockout_slots += 1;
		day.restock_units += Math.max(0, slot.capacity - slot.count);
		const prev = before.get(slot.slot);
		if (!yesterday || !prev) continue;
		if (prev.sku !== slot.sku) day.units_restocked += slot.count;
		else if (slot.count < prev.count) day.units_sold += prev.count - slot.count;
		else day.units_restocked += slot.count - prev.count;
	}
	return day;
}

export function emptyTotals(): SalesTotals {
	return {
		days_reported: 0,
		days_compared: 0,
		units_sold: 0,
		units_restocked: 0,
		stockout_slot_days: 0,
		restock_units: 0,
	};
}

/** Adds a day; `latest` says it is the newest day seen so far (its restock need replaces the older one). */
export function addDay(totals: SalesTotals, day: MachineDay, latest: boolean): void {
	totals.days_reported += 1;
	if (day.compared) totals.days_compared += 1;
	totals.units_sold += day.units_sold;
	totals.units_restocked += day.units_restocked;
	totals.stockout_slot_days += day.stockout_slots;
	if (latest) totals.restock_units = day.restock_units;
}

export function addTotals(into: SalesTotals, from: SalesTotals): void {
	into.days_reported += from.days_reported;
	into.days_compared += from.days_compared;
	into.units_sold += from.units_sold;
	into.units_restocked += from.units_restocked;
	into.stockout_slot_days += from.stockout_slot_days;
	into.restock_units += from.restock_units;
}
