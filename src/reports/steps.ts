import { z } from "zod";
import type { ChunkRow, PartialRow } from "./db";
import type { ReportParams, ReportType } from "./domain";
import { DAY_MS } from "./domain";
import type { JobTypeAggregate } from "./job-latency";
import { aggregateJobs } from "./job-latency";
import type { KeyAggregate } from "./ratelimit-decisions";
import { aggregateDecisions } from "./ratelimit-decisions";
import { listTrucks, readDecisionMinutes, readFinishedJobs, readMachineDays, readTruckPoints } from "./source-db";
import { emptyTruckDay, foldTruckPoints, truckDayRow } from "./truck-distance";
import { machineDay, parseInventory } from "./vending-sales";

/**
 * One step of a chunk per report type: reads at most `budget` pages of source rows from where the
 * chunk's cursor left off and returns the partial rows it finished and the new cursor (null when
 * the chunk is done). No writes: the caller commits partials and cursor in one transaction.
 */

export type StepContext = { db: D1Database; tenantId: string; params: ReportParams; chunk: ChunkRow; budget: number };
export type StepOutput = { partials: PartialRow[]; cursor: string | null; queries: number };

/** Rows per source query: bounded reads (D1 answers are held in memory whole). */
export const POINTS_PAGE = 2_000;
export const TRUCKS_PAGE = 100;
export const JOBS_PAGE = 1_000;
export const MACHINES_PAGE = 500;
export const DECISIONS_PAGE = 2_000;

const pointSchema = z.object({ recorded_at: z.number(), lat: z.number(), lng: z.number() });
const truckCursorSchema = z.object({
	done_through: z.string(),
	pending: z.array(z.string()),
	current: z
		.object({
			truck: z.string(),
			after: z.number(),
			day: z.object({
				points: z.number(),
				distance_m: z.number(),
				moving_ms: z.number(),
				idle_ms: z.number(),
				max_speed_kmh: z.number(),
				last: pointSchema.nullable(),
			}),
		})
		.nullable(),
});
const jobCursorSchema = z.object({ at: z.number(), id: z.string() });
const machineCursorSchema = z.object({ after: z.string() });
const decisionCursorSchema = z.object({ minute: z.number(), resource: z.string(), key: z.string() });

export const STEPS: Record<ReportType, (ctx: StepContext) => Promise<StepOutput>> = {
	truck_distance: truckDistanceStep,
	job_latency: jobLatencyStep,
	vending_sales: vendingSalesStep,
	ratelimit_decisions: decisionsStep,
};

async function truckDistanceStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	const c = ctx.chunk.cursor
		? truckCursorSchema.parse(JSON.parse(ctx.chunk.cursor))
		: { done_through: "", pending: ctx.params.truck_ids ?? [], current: null };
	const fixedTrucks = ctx.params.truck_ids !== undefined;
	const partials: PartialRow[] = [];
	let queries = 0;
	while (queries < ctx.budget) {
		if (!c.current) {
			if (c.pending.length === 0 && !fixedTrucks) {
				c.pending = await listTrucks(ctx.db, ctx.tenantId, c.done_through, TRUCKS_PAGE);
				queries += 1;
			}
			const truck = c.pending.shift();
			if (truck === undefined) return { partials, cursor: null, queries };
			c.current = { truck, after: chunk.start_ms - 1, day: emptyTruckDay() };
		}
		const cur = c.current;
		const points = await readTruckPoints(ctx.db, ctx.tenantId, cur.truck, cur.after, chunk.end_ms, POINTS_PAGE);
		queries += 1;
		foldTruckPoints(cur.day, points);
		const last = points.at(-1);
		if (last) cur.after = last.recorded_at;
		if (points.length === POINTS_PAGE) continue;
		if (cur.day.points > 0) {
			const row = truckDayRow(chunk.start_ms, cur.truck, cur.day);
			partials.push({ chunk_index: chunk.chunk_index, group_key: cur.truck, data: JSON.stringify(row) });
		}
		c.done_through = cur.truck;
		c.current = null;
	}
	return { partials, cursor: JSON.stringify(c), queries };
}

async function jobLatencyStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	let after = ctx.chunk.cursor ? jobCursorSchema.parse(JSON.parse(ctx.chunk.cursor)) : null;
	const byType = new Map<string, JobTypeAggregate>();
	let queries = 0;
	let finished = false;
	while (queries < ctx.budget) {
		const jobs = await readFinishedJobs(ctx.db, ctx.tenantId, chunk.start_ms, chunk.end_ms, after, JOBS_PAGE);
		queries += 1;
		aggregateJobs(byType, jobs, ctx.params.types);
		const last = jobs.at(-1);
		if (last) after = { at: last.completed_at, id: last.id };
		if (jobs.length < JOBS_PAGE) {
			finished = true;
			break;
		}
	}
	// One row per type per step of the chunk: a chunk that takes several steps has several, merged later.
	const partials = [...byType].map(([type, agg]) => ({
		chunk_index: chunk.chunk_index,
		group_key: `${String(chunk.steps).padStart(6, "0")}:${type}`,
		data: JSON.stringify({ type, ...agg }),
	}));
	return { partials, cursor: finished ? null : JSON.stringify(after), queries };
}

async function vendingSalesStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	let after = ctx.chunk.cursor ? machineCursorSchema.parse(JSON.parse(ctx.chunk.cursor)).after : "";
	const day = isoDay(chunk.start_ms);
	const previous = isoDay(chunk.start_ms - DAY_MS);
	const wanted = ctx.params.machine_ids ? new Set(ctx.params.machine_ids) : null;
	const partials: PartialRow[] = [];
	let queries = 0;
	while (queries < ctx.budget) {
		const rows = await readMachineDays(ctx.db, ctx.tenantId, day, previous, after, MACHINES_PAGE);
		queries += 1;
		for (const row of rows) {
			if (wanted && !wanted.has(row.machine_id)) continue;
			const today = parseInventory(row.inventory) ?? [];
			const result = machineDay(row.machine_id, row.city, today, parseInventory(row.prev_inventory));
			partials.push({ chunk_index: chunk.chunk_index, group_key: row.machine_id, data: JSON.stringify(result) });
		}
		const last = rows.at(-1);
		if (last) after = last.machine_id;
		if (rows.length < MACHINES_PAGE) return { partials, cursor: null, queries };
	}
	return { partials, cursor: JSON.stringify({ after }), queries };
}

async function decisionsStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	let after = chunk.cursor ? decisionCursorSchema.parse(JSON.parse(chunk.cursor)) : null;
	const byKey = new Map<string, KeyAggregate>();
	let queries = 0;
	let finished = false;
	while (queries < ctx.budget) {
		const rows = await readDecisionMinutes(ctx.db, ctx.tenantId, chunk.start_ms, chunk.end_ms, after, DECISIONS_PAGE);
		queries += 1;
		aggregateDecisions(byKey, rows, ctx.params.resources);
		const last = rows.at(-1);
		if (last) after = { minute: last.minute, resource: last.resource, key: last.limit_key };
		if (rows.length < DECISIONS_PAGE) {
			finished = true;
			break;
		}
	}
	// Like job_latency: one row per key per step of the chunk, merged when the result is built.
	const partials = [...byKey].map(([id, agg]) => ({
		chunk_index: chunk.chunk_index,
		group_key: `${String(chunk.steps).padStart(6, "0")}:${id}`,
		data: JSON.stringify(agg),
	}));
	return { partials, cursor: finished ? null : JSON.stringify(after), queries };
}

function isoDay(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}
