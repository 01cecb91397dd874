import type { RecordingRow, StageRow } from "./db";
import { deleteRecordingRows, findByMeeting, findRecording, insertRecording, listStages, updateStage } from "./db";
import type { ArtifactRow } from "./artifacts-db";
import { listArtifacts } from "./artifacts-db";
import type { PipelineHooks } from "./pipeline";
import { finishRecording, parseIds, pipelineSettings, startQueued, startRoots } from "./pipeline";
import { DEFAULT_KIND, graphFor, segmentCount, stageProgress } from "./domain";
import { AppError } from "../platform/errors";
import { newId } from "../platform/crypto";
import { log } from "../platform/log";
import { completeUploadObject } from "../uploads/service";
import { cancelJob, requireJob } from "../jobs/control";
import type { JobRow } from "../jobs/db";
import { declaredTypes, forgetDeclaredTypes } from "../jobs/declared-types";
import { upsertJobType } from "../jobs/types-db";
import { TENANT_CAPS } from "../platform/tenant-caps";
import { publishEvent } from "../webhooks/service";

export type NewRecording = { meeting_id: string; upload_id: string; title?: string | undefined };
export type StageView = {
	name: string;
	status: StageRow["status"];
	progress: number;
	segments: number;
	segments_done: number;
	attempts: number;
	error: string | null;
	job_ids: string[];
	started_at: string | null;
	completed_at: string | null;
	updated_at: string;
};

/** Jobs read per GET to show attempts and errors of running stages (D1 queries stay bounded). */
const MAX_JOBS_READ = 20;

/**
 * Called once per stage when it completes (the compare-and-set that completed it won): publishes
 * `recording.stage.completed` to the tenant's webhooks (publishEvent never throws).
 */
export async function onStageCompleted(env: Env, recording: RecordingRow, stage: string): Promise<void> {
	log.info("recording stage completed", { recording_id: recording.id, tenant_id: recording.tenant_id, stage });
	await publishEvent(env, recording.tenant_id, "recording.stage.completed", {
		recording_id: recording.id,
		meeting_id: recording.meeting_id,
		stage,
	});
}

/** Called once when a recording becomes ready (every stage completed): publishes `recording.ready`. */
export async function onRecordingReady(env: Env, recording: RecordingRow): Promise<void> {
	log.info("recording ready", { recording_id: recording.id, tenant_id: recording.tenant_id });
	await publishEvent(env, recording.tenant_id, "recording.ready", {
		recording_id: recording.id,
		meeting_id: recording.meeting_id,
	});
}

export const HOOKS: PipelineHooks = { onStageCompleted, onRecordingReady };

/**
 * Creates the recording of a meeting from a complete upload, or returns the one it already has
 * (idempotent per tenant and meeting). Over the tenant's intake limit it is accepted as 'queued'
 * and starts when a place frees up.
 */
export async function createRecording(
	env: Env,
	tenantId: string,
	input: NewRecording,
): Promise<{ row: RecordingRow; created: boolean }> {
	const existing = await findByMeeting(env.DB, tenantId, input.meeting_id);
	if (existing) {
		// A repeat after a crash between the insert and the first jobs: start what was never started.
		if (existing.status === "processing") await startRoots(env, existing);
		return { row: existing, created: false };
	}
	const source = await completeSource(env, tenantId, input.upload_id);
	await ensureStageTypes(env, tenantId);
	const graph = graphFor(DEFAULT_KIND);
	const segmentBytes = Number(env.RECORDINGS_SEGMENT_BYTES);
	const segments = segmentCount(source.size, segmentBytes);
	const now = Date.now();
	const id = newId("rec");
	const stages = graph.stages.map((s) => ({
		stage: s.name,
		phase: s.perSegment ? ("segments" as const) : ("whole" as const),
		segments: s.perSegment ? segments : 1,
	}));
	const row = {
		id,
		tenant_id: tenantId,
		meeting_id: input.meeting_id,
		upload_id: input.upload_id,
		title: input.title ?? null,
		kind: graph.kind,
		source_key: source.key,
		source_bytes: source.size,
		source_type: source.type,
		segment_bytes: segmentBytes,
		segments,
		created_at: now,
		updated_at: now,
	};
	await insertRecording(env.DB, row, stages, pipelineSettings(env).maxActive);
	const stored = await findByMeeting(env.DB, tenantId, input.meeting_id);
	if (!stored) throw new Error(`recording of meeting ${input.meeting_id} not stored`);
	if (stored.id === id && stored.status === "processing") await startRoots(env, stored, now);
	return { row: (await findRecording(env.DB, tenantId, stored.id)) ?? stored, created: stored.id === id };
}

export async function requireRecording(db: D1Database, tenantId: string, id: string): Promise<RecordingRow> {
	const row = await findRecording(db, tenantId, id);
	if (!row) throw new AppError(404, "recording_not_found", `No recording ${id}.`);
	return row;
}

/**
 * The stages as shown to clients. Jobs of running stages are read (at most MAX_JOBS_READ) for
 * attempts and errors; a stage whose job ended dead or cancelled is marked failed here, and with
 * it the recording (compare-and-set, once).
 */
export async function stageViews(
	env: Env,
	rec: RecordingRow,
): Promise<{ stages: StageView[]; recording: RecordingRow }> {
	const rows = await listStages(env.DB, rec.id);
	let budget = MAX_JOBS_READ;
	const views: StageView[] = [];
	let failed = false;
	for (const s of rows) {
		const ids = parseIds(s.job_ids);
		const jobs = s.status === "running" ? await readJobs(env, rec.tenant_id, ids.slice(-budget)) : [];
		budget -= Math.min(budget, s.status === "running" ? ids.length : 0);
		const broken = jobs.find((j) => j.status === "dead" || j.status === "cancelled");
		let status = s.status;
		let error = s.error ?? jobs.find((j) => j.error !== null)?.error ?? null;
		const reason = broken ? (broken.error ?? `job ${broken.id} ended ${broken.status}`) : null;
		if (
			reason !== null &&
			(await updateStage(env.DB, rec.id, s.stage, s.version, { status: "failed", error: reason }, Date.now()))
		) {
			status = "failed";
			error = reason;
			failed = true;
		}
		views.push({
			name: s.stage,
			status,
			progress: stageProgress(status, s.segments, s.segments_done),
			segments: s.segments,
			segments_done: s.status === "completed" ? s.segments : s.segments_done,
			attempts: jobs.reduce((max, j) => Math.max(max, j.attempts), s.status === "pending" ? 0 : 1),
			error,
			job_ids: ids,
			started_at: iso(s.started_at),
			completed_at: iso(s.completed_at),
			updated_at: new Date(s.updated_at).toISOString(),
		});
	}
	if (failed) await finishRecording(env, rec.id, "failed", HOOKS, Date.now());
	return { stages: views, recording: failed ? await requireRecording(env.DB, rec.tenant_id, rec.id) : rec };
}

export async function recordingJson(env: Env, rec: RecordingRow) {
	const { stages, recording } = await stageViews(env, rec);
	return { ...summaryJson(recording), stages, artifacts: (await listArtifacts(env.DB, rec.id)).map(artifactJson) };
}

export function summaryJson(r: RecordingRow) {
	return {
		recording_id: r.id,
		meeting_id: r.meeting_id,
		upload_id: r.upload_id,
		title: r.title,
		kind: r.kind,
		status: r.status,
		source_bytes: r.source_bytes,
		segments: r.segments,
		created_at: new Date(r.created_at).toISOString(),
		finished_at: iso(r.finished_at),
	};
}

export function artifactJson(a: ArtifactRow) {
	return {
		name: a.name,
		size: a.size,
		content_type: a.content_type,
		etag: a.etag,
		url: `/api/v1/recordings/${a.recording_id}/artifacts/${a.name}`,
		created_at: new Date(a.created_at).toISOString(),
	};
}

/** Cancels the stages' unfinished jobs, deletes the artifacts from R2 and the rows; frees an intake place. */
export async function deleteRecording(env: Env, rec: RecordingRow): Promise<void> {
	for (const stage of await listStages(env.DB, rec.id)) {
		if (stage.status === "completed") continue;
		for (const jobId of parseIds(stage.job_ids)) {
			await cancelJob(env, rec.tenant_id, jobId).catch((err: unknown) => {
				if (!(err instanceof AppError)) throw err; // finished or gone: nothing to cancel
			});
		}
	}
	const keys = (await listArtifacts(env.DB, rec.id)).map((a) => a.r2_key);
	for (let i = 0; i < keys.length; i += 1000) await env.RECORDINGS.delete(keys.slice(i, i + 1000));
	await deleteRecordingRows(env.DB, rec.id);
	if (rec.status === "processing") await startQueued(env, rec.tenant_id);
}

/** The upload's object (a final upload's: its partials' in order): 404 unknown upload, 409 while it is not complete. */
async function completeSource(env: Env, tenantId: string, uploadId: string) {
	const upload = await completeUploadObject(env, tenantId, uploadId);
	return { key: upload.key, size: upload.size, type: upload.contentType };
}

/**
 * The stage job types must be declared (external) for the jobs platform to accept them; missing
 * ones are declared with RECORDINGS_STAGE_CONCURRENCY as their max_concurrency. A tenant's own
 * settings for a type are kept.
 */
async function ensureStageTypes(env: Env, tenantId: string): Promise<void> {
	const declared = await declaredTypes(env.DB, tenantId);
	const missing = graphFor(DEFAULT_KIND).stages.filter((s) => !declared.has(s.jobType));
	for (const stage of missing) {
		const row = await upsertJobType(
			env.DB,
			{
				tenant_id: tenantId,
				type: stage.jobType,
				mode: "external",
				max_concurrency: Number(env.RECORDINGS_STAGE_CONCURRENCY),
				rate_per_second: null,
				updated_at: Date.now(),
			},
			TENANT_CAPS.job_types,
		);
		if (!row) throw new AppError(409, "job_types_full", "No room to declare the recording stage job types.");
	}
	if (missing.length > 0) forgetDeclaredTypes(tenantId);
}

/** The jobs of `ids` that still exist (finished ones may have passed retention). */
async function readJobs(env: Env, tenantId: string, ids: readonly string[]): Promise<JobRow[]> {
	const jobs: JobRow[] = [];
	for (const id of ids) {
		try {
			jobs.push(await requireJob(env.DB, tenantId, id));
		} catch (err) {
			if (!(err instanceof AppError)) throw err;
		}
	}
	return jobs;
}

function iso(ms: number | null): string | null {
	return ms === null ? null : new Date(ms).toISOString();
}
