import { z } from "zod";
import type { PartialRow } from "./db";
import type { ReportParams, ReportType } from "./domain";
import { DAY_MS, planChunks, toCsv } from "./domain";
import type { JobTypeAggregate } from "./job-latency";
import { emptyJobAggregate, JOB_COLUMNS, jobTypeRow, mergeJobAggregates } from "./job-latency";
import type { KeyAggregate } from "./ratelimit-decisions";
import { DECISION_COLUMNS, decisionRow, mergeKeyAggregate } from "./ratelimit-decisions";
import type { TruckDayRow } from "./truck-distance";
import { TRUCK_COLUMNS } from "./truck-distance";
import type { SalesTotals } from "./vending-sales";
import { addDay, addTotals, emptyTotals, SALES_COLUMNS } from "./vending-sales";

/**
 * Merging a report's partial rows (fed page by page, in chunk order) into its result rows, and the
 * result's JSON and CSV text. Partial rows are our own JSON, still parsed: a stored value is input.
 */

export type Cell = string | number | null;
export type ResultRows = { columns: readonly string[]; rows: Record<string, Cell>[] };

export interface Merger {
	add(rows: readonly PartialRow[]): void;
	finish(): ResultRows;
}

/** Results larger than this fail (`result_too_large`) instead of exhausting the isolate's memory. */
export const MAX_RESULT_ROWS = 200_000;

const sketchSchema = z.object({ zeros: z.number(), buckets: z.record(z.string(), z.number()) });
const jobPartialSchema = z.object({
	type: z.string(),
	completed: z.number(),
	dead: z.number(),
	cancelled: z.number(),
	latency: sketchSchema,
	run: sketchSchema,
});
const truckRowSchema = z.object({
	day: z.string(),
	truck_id: z.string(),
	points: z.number(),
	distance_km: z.number(),
	moving_s: z.number(),
	idle_s: z.number(),
	avg_speed_kmh: z.number().nullable(),
	max_speed_kmh: z.number(),
});
const machineDaySchema = z.object({
	machine_id: z.string(),
	city: z.string().nullable(),
	units_sold: z.number(),
	units_restocked: z.number(),
	stockout_slots: z.number(),
	restock_units: z.number(),
	compared: z.boolean(),
});

const keyAggregateSchema = z.object({
	resource: z.string(),
	key: z.string(),
	allowed: z.number(),
	rejected: z.number(),
	peak_minute: z.number(),
	peak_requests: z.number(),
	peak_rejected: z.number(),
});

export class ResultTooLarge extends Error {}

export function mergerFor(type: ReportType, params: ReportParams): Merger {
	if (type === "truck_distance") return truckMerger();
	if (type === "job_latency") return jobMerger(planChunks(params).length * (DAY_MS / 3_600_000));
	if (type === "ratelimit_decisions") return decisionMerger();
	return salesMerger();
}

export function resultJson(
	type: ReportType,
	params: ReportParams,
	reportId: string,
	result: ResultRows,
	now: number,
): string {
	return JSON.stringify({
		report_id: reportId,
		type,
		params,
		generated_at: new Date(now).toISOString(),
		rows: result.rows,
	});
}

export function resultCsv(result: ResultRows): string {
	return toCsv(
		result.columns,
		result.rows.map((row) => result.columns.map((col) => row[col] ?? null)),
	);
}

function truckMerger(): Merger {
	const rows: TruckDayRow[] = [];
	return {
		add(partials) {
			for (const p of partials) rows.push(truckRowSchema.parse(JSON.parse(p.data)));
			if (rows.length > MAX_RESULT_ROWS) throw new ResultTooLarge(`more than ${MAX_RESULT_ROWS} truck-days`);
		},
		finish: () => ({ columns: TRUCK_COLUMNS, rows }),
	};
}

function jobMerger(rangeHours: number): Merger {
	const byType = new Map<string, JobTypeAggregate>();
	return {
		add(partials) {
			for (const p of partials) {
				const { type, ...agg } = jobPartialSchema.parse(JSON.parse(p.data));
				let into = byType.get(type);
				if (!into) byType.set(type, (into = emptyJobAggregate()));
				mergeJobAggregates(into, agg);
			}
		},
		finish: () => ({
			columns: JOB_COLUMNS,
			rows: [...byType].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, agg]) => jobTypeRow(type, agg, rangeHours)),
		}),
	};
}

/** Per machine over the range, then per city (machines without a registered city under "unknown"). */
function salesMerger(): Merger {
	const machines = new Map<string, { city: string; totals: SalesTotals }>();
	return {
		add(partials) {
			// Partials arrive in chunk (day) order, so each machine's later day replaces its restock need.
			for (const p of partials) {
				const day = machineDaySchema.parse(JSON.parse(p.data));
				let m = machines.get(day.machine_id);
				if (!m) machines.set(day.machine_id, (m = { city: day.city ?? "unknown", totals: emptyTotals() }));
				addDay(m.totals, day, true);
			}
			if (machines.size > MAX_RESULT_ROWS) throw new ResultTooLarge(`more than ${MAX_RESULT_ROWS} machines`);
		},
		finish() {
			const cities = new Map<string, { machines: number; totals: SalesTotals }>();
			const rows: Record<string, Cell>[] = [];
			for (const [id, m] of [...machines].sort(([a], [b]) => (a < b ? -1 : 1))) {
				rows.push({ level: "machine", id, city: m.city, machines: 1, ...m.totals });
				let c = cities.get(m.city);
				if (!c) cities.set(m.city, (c = { machines: 0, totals: emptyTotals() }));
				c.machines += 1;
				addTotals(c.totals, m.totals);
			}
			for (const [city, c] of [...cities].sort(([a], [b]) => (a < b ? -1 : 1))) {
				rows.push({ level: "city", id: city, city, machines: c.machines, ...c.totals });
			}
			return { columns: SALES_COLUMNS, rows };
		},
	};
}

/** Per (resource, key) over the range, the most rejected first (then by resource and key). */
function decisionMerger(): Merger {
	const byKey = new Map<string, KeyAggregate>();
	return {
		add(partials) {
			for (const p of partials) mergeKeyAggregate(byKey, keyAggregateSchema.parse(JSON.parse(p.data)));
			if (byKey.size > MAX_RESULT_ROWS) throw new ResultTooLarge(`more than ${MAX_RESULT_ROWS} keys`);
		},
		finish: () => ({
			columns: DECISION_COLUMNS,
			rows: [...byKey.values()]
				.sort(
					(a, b) =>
						b.rejected - a.rejected ||
						(a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.key < b.key ? -1 : 1),
				)
				.map(decisionRow),
		}),
	};
}
