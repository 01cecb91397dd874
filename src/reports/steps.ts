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
	const start = chunk.cursor ? jobCursorSchema.parse(JSON.parse(chunk.cursor)) : null;
	const byType = new Map<string, JobTypeAggregate>();
	const paged = await readPages(ctx.budget, JOBS_PAGE, start, {
		read: (after) => readFinishedJobs(ctx.db, ctx.tenantId, chunk.start_ms, chunk.end_ms, after, JOBS_PAGE),
		fold: (jobs) => aggregateJobs(byType, jobs, ctx.params.types),
		next: (job) => ({ at: job.completed_at, id: job.id }),
	});
	return perStepOutput(chunk, byType, (type, agg) => ({ type, ...agg }), paged);
}

async function vendingSalesStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	const start = chunk.cursor ? machineCursorSchema.parse(JSON.parse(chunk.cursor)).after : "";
	const day = isoDay(chunk.start_ms);
	const previous = isoDay(chunk.start_ms - DAY_MS);
	const wanted = ctx.params.machine_ids ? new Set(ctx.params.machine_ids) : null;
	const partials: PartialRow[] = [];
	const paged = await readPages(ctx.budget, MACHINES_PAGE, start, {
		read: (after) => readMachineDays(ctx.db, ctx.tenantId, day, previous, after, MACHINES_PAGE),
		fold: (rows) => {
			for (const row of rows) {
				if (wanted && !wanted.has(row.machine_id)) continue;
				const today = parseInventory(row.inventory) ?? [];
				const result = machineDay(row.machine_id, row.city, today, parseInventory(row.prev_inventory));
				partials.push({ chunk_index: chunk.chunk_index, group_key: row.machine_id, data: JSON.stringify(result) });
			}
		},
		next: (row) => row.machine_id,
	});
	return { partials, cursor: paged.finished ? null : JSON.stringify({ after: paged.after }), queries: paged.queries };
}

async function decisionsStep(ctx: StepContext): Promise<StepOutput> {
	const { chunk } = ctx;
	const start = chunk.cursor ? decisionCursorSchema.parse(JSON.parse(chunk.cursor)) : null;
	const byKey = new Map<string, KeyAggregate>();
	const paged = await readPages(ctx.budget, DECISIONS_PAGE, start, {
		read: (after) => readDecisionMinutes(ctx.db, ctx.tenantId, chunk.start_ms, chunk.end_ms, after, DECISIONS_PAGE),
		fold: (rows) => aggregateDecisions(byKey, rows, ctx.params.resources),
		next: (row) => ({ minute: row.minute, resource: row.resource, key: row.limit_key }),
	});
	// Like job_latency: one row per key per step of the chunk, merged when the result is built.
	return perStepOutput(chunk, byKey, (_id, agg) => agg, paged);
}

type Paged<C> = { after: C; finished: boolean; queries: number };

/**
 * Reads a chunk's source page by page while the step's query budget lasts: each page is folded in,
 * the cursor moves past its last row, and a short page means the source ran out.
 */
async function readPages<R, C>(
	budget: number,
	pageSize: number,
	start: C,
	source: { read: (after: C) => Promise<R[]>; fold: (rows: R[]) => void; next: (row: R) => C },
): Promise<Paged<C>> {
	let after = start;
	let queries = 0;
	while (queries < budget) {
		const rows = await source.read(after);
		queries += 1;
		source.fold(rows);
		const last = rows.at(-1);
		if (last) after = source.next(last);
		if (rows.length < pageSize) return { after, finished: true, queries };
	}
	return { after, finished: false, queries };
}

/**
 * One partial row per group per step of the chunk (group keys prefixed by the step number, so a
 * chunk that takes several steps has several rows per group, merged when the result is built).
 */
function perStepOutput<A>(
	chunk: StepContext["chunk"],
	groups: ReadonlyMap<string, A>,
	data: (group: string, agg: A) => unknown,
	paged: Paged<unknown>,
): StepOutput {
	const partials = [...groups].map(([group, agg]) => ({
		chunk_index: chunk.chunk_index,
		group_key: `${String(chunk.steps).padStart(6, "0")}:${group}`,
		data: JSON.stringify(data(group, agg)),
	}));
	return { partials, cursor: paged.finished ? null : JSON.stringify(paged.after), queries: paged.queries };
}

function isoDay(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}
