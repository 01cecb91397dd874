import type { Sketch } from "./sketch";
import { addToSketch, emptySketch, mergeSketches, sketchPercentile } from "./sketch";
import { round } from "./truck-distance";

/** job_latency's pure part: finished jobs per type, and latency percentiles from mergeable sketches. */

export type FinishedJob = {
	type: string;
	status: string;
	created_at: number;
	started_at: number | null;
	completed_at: number;
};

export type JobTypeAggregate = {
	completed: number;
	dead: number;
	cancelled: number;
	/** created → completed, completed jobs only. */
	latency: Sketch;
	/** started → completed (the last attempt's run), completed jobs only. */
	run: Sketch;
};

export type JobTypeRow = {
	type: string;
	completed: number;
	dead: number;
	cancelled: number;
	completed_per_hour: number;
	latency_p50_ms: number | null;
	latency_p95_ms: number | null;
	latency_p99_ms: number | null;
	run_p50_ms: number | null;
	run_p95_ms: number | null;
	run_p99_ms: number | null;
};

export const JOB_COLUMNS = [
	"type",
	"completed",
	"dead",
	"cancelled",
	"completed_per_hour",
	"latency_p50_ms",
	"latency_p95_ms",
	"latency_p99_ms",
	"run_p50_ms",
	"run_p95_ms",
	"run_p99_ms",
] as const;

export function emptyJobAggregate(): JobTypeAggregate {
	return { completed: 0, dead: 0, cancelled: 0, latency: emptySketch(), run: emptySketch() };
}

/** Aggregates a page of finished jobs per type (only `types` when given). */
export function aggregateJobs(
	into: Map<string, JobTypeAggregate>,
	jobs: readonly FinishedJob[],
	types: readonly string[] | undefined,
): void {
	for (const job of jobs) {
		if (types && !types.includes(job.type)) continue;
		let agg = into.get(job.type);
		if (!agg) into.set(job.type, (agg = emptyJobAggregate()));
		if (job.status === "completed") {
			agg.completed += 1;
			addToSketch(agg.latency, job.completed_at - job.created_at);
			if (job.started_at !== null) addToSketch(agg.run, job.completed_at - job.started_at);
		} else if (job.status === "dead") agg.dead += 1;
		else if (job.status === "cancelled") agg.cancelled += 1;
	}
}

export function mergeJobAggregates(into: JobTypeAggregate, from: JobTypeAggregate): void {
	into.completed += from.completed;
	into.dead += from.dead;
	into.cancelled += from.cancelled;
	mergeSketches(into.latency, from.latency);
	mergeSketches(into.run, from.run);
}

export function jobTypeRow(type: string, agg: JobTypeAggregate, rangeHours: number): JobTypeRow {
	return {
		type,
		completed: agg.completed,
		dead: agg.dead,
		cancelled: agg.cancelled,
		completed_per_hour: round(agg.completed / rangeHours, 3),
		latency_p50_ms: sketchPercentile(agg.latency, 50),
		latency_p95_ms: sketchPercentile(agg.latency, 95),
		latency_p99_ms: sketchPercentile(agg.latency, 99),
		run_p50_ms: sketchPercentile(agg.run, 50),
		run_p95_ms: sketchPercentile(agg.run, 95),
		run_p99_ms: sketchPercentile(agg.run, 99),
	};
}
