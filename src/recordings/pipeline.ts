import type { JobSpec } from "../jobs/spec";
import { enqueueJobs } from "../jobs/enqueue";
import type { RecordingRow, StageRow } from "./db";
import { findRecordingById, listStages, markUnitDone, promoteQueued, updateRecordingStatus, updateStage } from "./db";
import type { StageDef } from "./domain";
import {
	ADVANCE_JOB_TYPE,
	advanceJobKey,
	unitJobKey,
	afterUnit,
	graphFor,
	mergeUnit,
	recordingStatusOf,
	segmentRange,
	stageDef,
	unblockedBy,
} from "./domain";
import { insertEvent } from "./artifacts-db";
import { log } from "../platform/log";

/** What the built-in `recording.advance` job carries: one finished unit of a stage. */
export type AdvancePayload = { recording_id: string; stage: string; unit: number };
/** What happened to the recording, for the hooks (webhooks after merge) and tests. */
export type Advanced = { stageCompleted: boolean; started: string[]; ready: boolean };
export type PipelineHooks = {
	onStageCompleted: (env: Env, recording: RecordingRow, stage: string) => Promise<void>;
	onRecordingReady: (env: Env, recording: RecordingRow) => Promise<void>;
};

/** Compare-and-set retries before giving up (the job then retries the whole advance). */
const CAS_ATTEMPTS = 8;
/** Jobs per enqueueJobs call: one DB.batch each, well under D1's per-statement limits. */
const ENQUEUE_CHUNK = 50;

export function pipelineSettings(env: Env): { maxActive: number; timeoutSeconds: number } {
	return {
		maxActive: Number(env.RECORDINGS_MAX_ACTIVE_PER_TENANT),
		timeoutSeconds: Number(env.RECORDINGS_STAGE_TIMEOUT_SECONDS),
	};
}

/**
 * Starts a stage exactly once: the compare-and-set pending → running on the stage's version picks
 * one caller (two stages completing at once may both find this one unblocked); only it enqueues.
 * Jobs carry dedupe keys, so a start repaired after a crash between the two steps makes no second copy.
 */
export async function startStage(env: Env, rec: RecordingRow, stage: StageRow, now = Date.now()): Promise<boolean> {
	const repair = stage.status === "running" && stage.job_ids === "[]";
	if (stage.status !== "pending" && !repair) return false;
	const def = stageDef(rec.kind, stage.stage);
	if (!def) return false;
	const phase = def.perSegment ? "segments" : "whole";
	if (
		!repair &&
		!(await updateStage(env.DB, rec.id, stage.stage, stage.version, { status: "running", phase, started_at: now }, now))
	)
		return false;
	const units = def.perSegment ? Array.from({ length: stage.segments }, (_, i) => i) : [0];
	const jobIds = await enqueueUnits(env, rec, def, units, false);
	await storeJobIds(env.DB, rec.id, stage.stage, jobIds, now);
	return true;
}

/**
 * The built-in advance job: one unit of a stage finished (its job completed). Counts it once,
 * then moves the stage on with compare-and-set writes: wait, start the merge, or complete, and a
 * completed stage starts the stages it unblocked and may make the recording ready.
 */
export async function advanceRecording(env: Env, p: AdvancePayload, hooks: PipelineHooks): Promise<Advanced> {
	const none: Advanced = { stageCompleted: false, started: [], ready: false };
	const rec = await findRecordingById(env.DB, p.recording_id);
	if (!rec) return none; // deleted meanwhile
	const now = Date.now();
	const first = (await listStages(env.DB, rec.id)).find((s) => s.stage === p.stage);
	if (!first) return none;
	const counted = await markUnitDone(env.DB, rec.id, p.stage, p.unit, mergeUnit(first.segments), now);
	for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
		const stage = (await listStages(env.DB, rec.id)).find((s) => s.stage === p.stage);
		if (!stage || stage.status !== "running") return none;
		const effect = afterUnit(stage.phase, stage.segments, counted.done, counted.mergeDone);
		if (effect.next === "complete") {
			const won = await updateStage(
				env.DB,
				rec.id,
				stage.stage,
				stage.version,
				{ status: "completed", segments_done: stage.segments, completed_at: now },
				now,
			);
			if (won) return afterStageCompleted(env, rec, stage.stage, hooks, now);
		} else if (effect.next === "merge") {
			const won = await updateStage(
				env.DB,
				rec.id,
				stage.stage,
				stage.version,
				{ phase: "merge", segments_done: effect.segmentsDone },
				now,
			);
			if (won) {
				const def = stageDef(rec.kind, stage.stage);
				const ids = def ? await enqueueUnits(env, rec, def, [mergeUnit(stage.segments)], true) : [];
				await appendJobIds(env.DB, rec.id, stage.stage, ids, now);
				return none;
			}
		} else {
			if (effect.segmentsDone <= stage.segments_done) return none;
			if (await updateStage(env.DB, rec.id, stage.stage, stage.version, { segments_done: effect.segmentsDone }, now))
				return none;
		}
		// Another unit of this stage wrote first: read again and decide anew.
	}
	throw new Error(`recording ${rec.id} stage ${p.stage} kept changing`);
}

async function afterStageCompleted(
	env: Env,
	rec: RecordingRow,
	stage: string,
	hooks: PipelineHooks,
	now: number,
): Promise<Advanced> {
	await insertEvent(env.DB, rec.id, "recording.stage.completed", { recording_id: rec.id, stage }, now);
	await hooks.onStageCompleted(env, rec, stage);
	const stages = await listStages(env.DB, rec.id);
	const statuses = new Map(stages.map((s) => [s.stage, s.status]));
	const started: string[] = [];
	for (const def of unblockedBy(graphFor(rec.kind), stage, statuses)) {
		const row = stages.find((s) => s.stage === def.name);
		if (row && (await startStage(env, rec, row, now))) started.push(def.name);
	}
	const ready =
		recordingStatusOf(stages.map((s) => s.status)) === "ready" &&
		(await finishRecording(env, rec.id, "ready", hooks, now));
	return { stageCompleted: true, started, ready };
}

/**
 * Moves a recording to ready or failed (compare-and-set: one caller wins), records the event and
 * lets the tenant's oldest queued recording start in the place it frees.
 */
export async function finishRecording(
	env: Env,
	id: string,
	status: "ready" | "failed",
	hooks: PipelineHooks,
	now: number,
): Promise<boolean> {
	for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
		const rec = await findRecordingById(env.DB, id);
		if (!rec || rec.status === "ready" || rec.status === "failed") return false;
		if (!(await updateRecordingStatus(env.DB, rec, status, now))) continue;
		await insertEvent(env.DB, id, `recording.${status}`, { recording_id: id }, now);
		if (status === "ready") await hooks.onRecordingReady(env, { ...rec, status, version: rec.version + 1 });
		await startQueued(env, rec.tenant_id, now);
		return true;
	}
	return false;
}

/** Intake: starts the tenant's oldest queued recording if a place is free (its root stages). */
export async function startQueued(env: Env, tenantId: string, now = Date.now()): Promise<void> {
	const promoted = await promoteQueued(env.DB, tenantId, pipelineSettings(env).maxActive, now);
	if (!promoted) return;
	log.info("queued recording started", { recording_id: promoted.id });
	await startRoots(env, promoted, now);
}

/** Starts every stage without predecessors (or repairs one whose jobs were never written). */
export async function startRoots(env: Env, rec: RecordingRow, now = Date.now()): Promise<void> {
	const roots = new Set(
		graphFor(rec.kind)
			.stages.filter((s) => s.after.length === 0)
			.map((s) => s.name),
	);
	for (const stage of await listStages(env.DB, rec.id)) {
		if (roots.has(stage.stage) || (stage.status === "running" && stage.job_ids === "[]"))
			await startStage(env, rec, stage, now);
	}
}

/** The sweeper's repair: units whose jobs were lost get new ones (dedupe keys: a live one is reused). */
export async function enqueueLostUnits(env: Env, rec: RecordingRow, stage: StageRow, units: number[], now: number) {
	const def = stageDef(rec.kind, stage.stage);
	if (!def || units.length === 0) return;
	const ids = await enqueueUnits(env, rec, def, units, stage.phase === "merge");
	await appendJobIds(env.DB, rec.id, stage.stage, ids, now);
}

/**
 * Enqueues each unit's external job, then one built-in advance job per unit that depends on it
 * (the jobs platform releases it once, when the unit's job completes). Returns the unit job ids.
 */
async function enqueueUnits(
	env: Env,
	rec: RecordingRow,
	def: StageDef,
	units: number[],
	merge: boolean,
): Promise<string[]> {
	const { timeoutSeconds } = pipelineSettings(env);
	const ids: string[] = [];
	for (let i = 0; i < units.length; i += ENQUEUE_CHUNK) {
		const chunk = units.slice(i, i + ENQUEUE_CHUNK);
		const work: JobSpec[] = chunk.map((unit) => ({
			type: def.jobType,
			payload: unitPayload(rec, def, unit, merge),
			priority: "medium",
			max_retries: 3,
			timeout_seconds: timeoutSeconds,
			dedupe_key: unitJobKey(rec.id, def.name, unit),
		}));
		const jobs = await enqueueJobs(env, rec.tenant_id, work);
		const advance: JobSpec[] = jobs.map((job, k) => ({
			type: ADVANCE_JOB_TYPE,
			payload: { recording_id: rec.id, stage: def.name, unit: chunk[k] ?? 0 } satisfies AdvancePayload,
			priority: "high",
			max_retries: 10,
			dedupe_key: advanceJobKey(rec.id, def.name, chunk[k] ?? 0),
			depends_on: [job.job_id],
		}));
		await enqueueJobs(env, rec.tenant_id, advance);
		ids.push(...jobs.map((j) => j.job_id));
	}
	return ids;
}

/** What a worker gets in a stage job: where to read (Range requests) and write, and its segment. */
function unitPayload(rec: RecordingRow, def: StageDef, unit: number, merge: boolean) {
	const base = `/api/v1/recordings/${rec.id}`;
	const segment =
		def.perSegment && !merge ? { ...segmentRange(rec.source_bytes, rec.segments, unit), count: rec.segments } : null;
	return {
		recording_id: rec.id,
		stage: def.name,
		unit,
		merge,
		segments: def.perSegment ? rec.segments : 1,
		segment,
		source_url: `${base}/source`,
		source_bytes: rec.source_bytes,
		artifacts_url: `${base}/artifacts`,
	};
}

async function storeJobIds(db: D1Database, id: string, stage: string, ids: string[], now: number): Promise<void> {
	await appendJobIds(db, id, stage, ids, now);
}

/** Adds job ids to a stage (compare-and-set, retried: the advance of another unit may write meanwhile). */
async function appendJobIds(db: D1Database, id: string, stage: string, ids: string[], now: number): Promise<void> {
	for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
		const row = (await listStages(db, id)).find((s) => s.stage === stage);
		if (!row) return;
		const known = parseIds(row.job_ids);
		const merged = [...known, ...ids.filter((j) => !known.includes(j))];
		if (await updateStage(db, id, stage, row.version, { job_ids: JSON.stringify(merged) }, now)) return;
	}
	throw new Error(`recording ${id} stage ${stage}: job ids not stored`);
}

export function parseIds(text: string): string[] {
	const parsed: unknown = JSON.parse(text);
	return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
}
