/** Recordings: the stage graphs (data), segments, and the pure rules of the pipeline. No I/O. */

export type StageStatus = "pending" | "running" | "completed" | "failed" | "cancelled";
export type RecordingStatus = "queued" | "processing" | "ready" | "failed";
export type Phase = "whole" | "segments" | "merge";

/**
 * One stage of a graph: the job type its workers claim, the stages it waits for, and whether it
 * works per segment of the source (one job per segment, then one merge job).
 */
export type StageDef = { name: string; jobType: string; after: readonly string[]; perSegment: boolean };
export type Graph = { kind: string; stages: readonly StageDef[] };

/**
 * The stage graph per recording kind: data, not code paths per stage. `meeting`: audio, video
 * (720p and 360p, per segment) and transcript in parallel; highlights after all three; a summary
 * clip after highlights.
 */
export const GRAPHS: Readonly<Record<string, Graph>> = {
	meeting: {
		kind: "meeting",
		stages: [
			{ name: "audio", jobType: "recording.audio", after: [], perSegment: false },
			{ name: "video", jobType: "recording.video", after: [], perSegment: true },
			{ name: "transcript", jobType: "recording.transcript", after: [], perSegment: false },
			{
				name: "highlights",
				jobType: "recording.highlights",
				after: ["audio", "video", "transcript"],
				perSegment: false,
			},
			{ name: "summary", jobType: "recording.summary", after: ["highlights"], perSegment: false },
		],
	},
};
export const DEFAULT_KIND = "meeting";
/** The built-in job that advances a recording when one unit of stage work completed. */
export const ADVANCE_JOB_TYPE = "recording.advance";
/** Artifact names: letters, digits, `.`, `_`, `-`; no path separators. */
export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Most segments one recording is cut into, whatever the segment size (jobs per stage stay bounded). */
export const MAX_SEGMENTS = 120;

export type SegmentRange = { index: number; offset: number; length: number };

/** How many segments of at most `segmentBytes` a source of `size` bytes makes (1 … MAX_SEGMENTS). */
export function segmentCount(size: number, segmentBytes: number): number {
	return Math.min(MAX_SEGMENTS, Math.max(1, Math.ceil(size / Math.max(1, segmentBytes))));
}

/** Segment `index` of `count` over `size` bytes: equal byte ranges, the last one takes the rest. */
export function segmentRange(size: number, count: number, index: number): SegmentRange {
	const base = Math.floor(size / count);
	const offset = base * index;
	return { index, offset, length: index === count - 1 ? size - offset : base };
}

export function graphFor(kind: string): Graph {
	const graph = GRAPHS[kind];
	if (!graph) throw new Error(`unknown recording kind ${kind}`);
	return graph;
}

export function stageDef(kind: string, stage: string): StageDef | undefined {
	return graphFor(kind).stages.find((s) => s.name === stage);
}

/** The stages that start as soon as the recording does (no stage before them). */
export function rootStages(graph: Graph): StageDef[] {
	return graph.stages.filter((s) => s.after.length === 0);
}

/** Stages waiting on `completed` whose every predecessor is now completed. */
export function unblockedBy(graph: Graph, completed: string, statuses: ReadonlyMap<string, StageStatus>): StageDef[] {
	return graph.stages.filter(
		(s) =>
			s.after.includes(completed) &&
			statuses.get(s.name) === "pending" &&
			s.after.every((before) => statuses.get(before) === "completed"),
	);
}

/** The dedupe key of a unit's stage job (one live job per unit), and of the advance job that follows it. */
export function unitJobKey(recordingId: string, stage: string, unit: number): string {
	return `rec:${recordingId}:${stage}:${unit}`;
}

export function advanceJobKey(recordingId: string, stage: string, unit: number): string {
	return `${unitJobKey(recordingId, stage, unit)}:advance`;
}

/** The units a running stage still waits for in its phase: the one whole unit, each segment, or the merge. */
export function unitsOfPhase(phase: Phase, segments: number): number[] {
	if (phase === "whole") return [0];
	if (phase === "merge") return [mergeUnit(segments)];
	return Array.from({ length: segments }, (_, i) => i);
}

/** The unit number of a stage's merge job (segments are 0 … segments-1). */
export function mergeUnit(segments: number): number {
	return segments;
}

/**
 * What a finished unit does to its stage: the new segment count and what happens next. A
 * per-segment stage starts its merge once all segments are done and completes with the merge;
 * a whole stage completes with its one unit.
 */
export type UnitEffect = { segmentsDone: number; next: "wait" | "merge" | "complete" };

export function afterUnit(phase: Phase, segments: number, unitsDone: number, mergeDone: boolean): UnitEffect {
	if (phase === "whole") return { segmentsDone: Math.min(segments, unitsDone), next: "complete" };
	const segmentsDone = Math.min(segments, unitsDone - (mergeDone ? 1 : 0));
	if (mergeDone) return { segmentsDone, next: "complete" };
	return { segmentsDone, next: segmentsDone >= segments && phase === "segments" ? "merge" : "wait" };
}

/** Progress 0–1 of a stage: finished segments / segments (a whole stage: 0 or 1). */
export function stageProgress(status: StageStatus, segments: number, segmentsDone: number): number {
	if (status === "completed") return 1;
	return segments === 0 ? 0 : Math.min(1, segmentsDone / segments);
}

/** The recording's status once its stages changed: failed if one failed, ready when all completed. */
export function recordingStatusOf(statuses: readonly StageStatus[]): RecordingStatus {
	if (statuses.some((s) => s === "failed" || s === "cancelled")) return "failed";
	if (statuses.every((s) => s === "completed")) return "ready";
	return "processing";
}

/** The R2 key of an artifact (tenant-scoped, under the recording). */
export function artifactKey(tenantId: string, recordingId: string, name: string): string {
	return `recordings/${tenantId}/${recordingId}/${name}`;
}

/** A content type from an artifact's file extension, when the uploader sent none. */
export function contentTypeFor(name: string): string {
	const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
	const types: Record<string, string> = {
		m4a: "audio/mp4",
		aac: "audio/aac",
		opus: "audio/ogg",
		ogg: "audio/ogg",
		wav: "audio/wav",
		mp4: "video/mp4",
		json: "application/json",
		txt: "text/plain; charset=utf-8",
		vtt: "text/vtt",
	};
	return types[ext] ?? "application/octet-stream";
}
