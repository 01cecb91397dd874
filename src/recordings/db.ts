import type { Phase, RecordingStatus, StageStatus } from "./domain";

/** D1 access of recordings and their stages (migrations/0029_create_recordings.sql). */

export type RecordingRow = {
	id: string;
	tenant_id: string;
	meeting_id: string;
	upload_id: string;
	title: string | null;
	kind: string;
	status: RecordingStatus;
	source_key: string;
	source_bytes: number;
	source_type: string | null;
	segment_bytes: number;
	segments: number;
	version: number;
	created_at: number;
	updated_at: number;
	finished_at: number | null;
};

export type StageRow = {
	recording_id: string;
	stage: string;
	status: StageStatus;
	phase: Phase;
	segments: number;
	segments_done: number;
	job_ids: string;
	error: string | null;
	version: number;
	started_at: number | null;
	completed_at: number | null;
	updated_at: number;
	/** Times the sweeper enqueued lost jobs of this stage again (src/recordings/sweeper.ts). */
	repairs: number;
	swept_at: number | null;
};

export type NewStage = Pick<StageRow, "stage" | "phase" | "segments">;
export type StageChange = Partial<
	Pick<StageRow, "status" | "phase" | "segments_done" | "job_ids" | "error" | "started_at" | "completed_at">
>;

/**
 * Inserts a recording and its stages unless the tenant already has one for the meeting (then
 * nothing is written). It starts 'processing' while the tenant has fewer than `maxActive`
 * processing recordings, else 'queued'; decided inside the statement, so a burst cannot overshoot.
 */
export async function insertRecording(
	db: D1Database,
	row: Omit<RecordingRow, "status" | "version" | "finished_at">,
	stages: readonly NewStage[],
	maxActive: number,
): Promise<void> {
	const insert = db
		.prepare(
			`INSERT INTO recordings (id, tenant_id, meeting_id, upload_id, title, kind, status, source_key, source_bytes,
			   source_type, segment_bytes, segments, created_at, updated_at)
			 SELECT ?, ?, ?, ?, ?, ?,
			   CASE WHEN (SELECT COUNT(*) FROM recordings WHERE tenant_id = ? AND status = 'processing') < ?
			     THEN 'processing' ELSE 'queued' END,
			   ?, ?, ?, ?, ?, ?, ?
			 ON CONFLICT (tenant_id, meeting_id) DO NOTHING`,
		)
		.bind(
			row.id,
			row.tenant_id,
			row.meeting_id,
			row.upload_id,
			row.title,
			row.kind,
			row.tenant_id,
			maxActive,
			row.source_key,
			row.source_bytes,
			row.source_type,
			row.segment_bytes,
			row.segments,
			row.created_at,
			row.updated_at,
		);
	const stageInserts = stages.map((s) =>
		db
			.prepare(
				`INSERT INTO recording_stages (recording_id, stage, status, phase, segments, updated_at)
				 SELECT ?, ?, 'pending', ?, ?, ? WHERE EXISTS (SELECT 1 FROM recordings WHERE id = ?)`,
			)
			.bind(row.id, s.stage, s.phase, s.segments, row.created_at, row.id),
	);
	await db.batch([insert, ...stageInserts]);
}

export async function findRecording(db: D1Database, tenantId: string, id: string): Promise<RecordingRow | null> {
	return db.prepare("SELECT * FROM recordings WHERE id = ? AND tenant_id = ?").bind(id, tenantId).first<RecordingRow>();
}

/** For the built-in advance job, which carries the tenant in its own row. */
export async function findRecordingById(db: D1Database, id: string): Promise<RecordingRow | null> {
	return db.prepare("SELECT * FROM recordings WHERE id = ?").bind(id).first<RecordingRow>();
}

export async function findByMeeting(db: D1Database, tenantId: string, meetingId: string): Promise<RecordingRow | null> {
	return db
		.prepare("SELECT * FROM recordings WHERE tenant_id = ? AND meeting_id = ?")
		.bind(tenantId, meetingId)
		.first<RecordingRow>();
}

/** A page of a tenant's recordings by id, after `cursor`, optionally of one meeting. */
export async function listRecordings(
	db: D1Database,
	tenantId: string,
	filter: { meetingId?: string; cursor?: string; limit: number },
): Promise<RecordingRow[]> {
	const { results } = await db
		.prepare(
			`SELECT * FROM recordings WHERE tenant_id = ? AND (? IS NULL OR meeting_id = ?) AND id > ?
			 ORDER BY id LIMIT ?`,
		)
		.bind(tenantId, filter.meetingId ?? null, filter.meetingId ?? null, filter.cursor ?? "", filter.limit)
		.all<RecordingRow>();
	return results;
}

/** The tenant's newest recordings (the dashboard's pipelines), newest first. */
export async function recentRecordings(db: D1Database, tenantId: string, limit: number): Promise<RecordingRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM recordings WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
		.bind(tenantId, limit)
		.all<RecordingRow>();
	return results;
}

export async function listStages(db: D1Database, recordingId: string): Promise<StageRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM recording_stages WHERE recording_id = ? ORDER BY rowid")
		.bind(recordingId)
		.all<StageRow>();
	return results;
}

/** Compare-and-set on a stage's version: true when this write won (the row was at `version`). */
export async function updateStage(
	db: D1Database,
	recordingId: string,
	stage: string,
	version: number,
	change: StageChange,
	now: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			`UPDATE recording_stages SET
			   status = COALESCE(?, status), phase = COALESCE(?, phase), segments_done = COALESCE(?, segments_done),
			   job_ids = COALESCE(?, job_ids), error = COALESCE(?, error), started_at = COALESCE(?, started_at),
			   completed_at = COALESCE(?, completed_at), version = version + 1, updated_at = ?
			 WHERE recording_id = ? AND stage = ? AND version = ?`,
		)
		.bind(
			change.status ?? null,
			change.phase ?? null,
			change.segments_done ?? null,
			change.job_ids ?? null,
			change.error ?? null,
			change.started_at ?? null,
			change.completed_at ?? null,
			now,
			recordingId,
			stage,
			version,
		)
		.run();
	return result.meta.changes === 1;
}

/** Compare-and-set of a recording's status on its version: true when this write won. */
export async function updateRecordingStatus(
	db: D1Database,
	row: Pick<RecordingRow, "id" | "version">,
	status: RecordingStatus,
	now: number,
): Promise<boolean> {
	const finished = status === "ready" || status === "failed" ? now : null;
	const result = await db
		.prepare(
			`UPDATE recordings SET status = ?, version = version + 1, updated_at = ?, finished_at = COALESCE(?, finished_at)
			 WHERE id = ? AND version = ?`,
		)
		.bind(status, now, finished, row.id, row.version)
		.run();
	return result.meta.changes === 1;
}

/**
 * Intake: moves the tenant's oldest queued recording to 'processing' if fewer than `maxActive` are
 * processing, in one statement. Returns it, or null when none is queued or there is no place.
 */
export async function promoteQueued(
	db: D1Database,
	tenantId: string,
	maxActive: number,
	now: number,
): Promise<RecordingRow | null> {
	return db
		.prepare(
			`UPDATE recordings SET status = 'processing', version = version + 1, updated_at = ?
			 WHERE id = (SELECT id FROM recordings WHERE tenant_id = ? AND status = 'queued' ORDER BY created_at, id LIMIT 1)
			   AND (SELECT COUNT(*) FROM recordings WHERE tenant_id = ? AND status = 'processing') < ?
			 RETURNING *`,
		)
		.bind(now, tenantId, tenantId, maxActive)
		.first<RecordingRow>();
}

/** Records a finished unit (idempotent) and returns how many units of the stage are done, and if the merge is. */
export async function markUnitDone(
	db: D1Database,
	recordingId: string,
	stage: string,
	unit: number,
	mergeUnit: number,
	now: number,
): Promise<{ done: number; mergeDone: boolean }> {
	await db
		.prepare("INSERT OR IGNORE INTO recording_units (recording_id, stage, unit, done_at) VALUES (?, ?, ?, ?)")
		.bind(recordingId, stage, unit, now)
		.run();
	const row = await db
		.prepare(
			`SELECT COUNT(*) AS done, COALESCE(MAX(unit = ?), 0) AS merge_done
			 FROM recording_units WHERE recording_id = ? AND stage = ?`,
		)
		.bind(mergeUnit, recordingId, stage)
		.first<{ done: number; merge_done: number }>();
	return { done: row?.done ?? 0, mergeDone: (row?.merge_done ?? 0) === 1 };
}

/** Removes a recording and everything hanging on it (artifact objects are deleted from R2 first). */
export async function deleteRecordingRows(db: D1Database, id: string): Promise<void> {
	await db.batch([
		db.prepare("DELETE FROM recording_events WHERE recording_id = ?").bind(id),
		db.prepare("DELETE FROM recording_artifacts WHERE recording_id = ?").bind(id),
		db.prepare("DELETE FROM recording_units WHERE recording_id = ?").bind(id),
		db.prepare("DELETE FROM recording_stages WHERE recording_id = ?").bind(id),
		db.prepare("DELETE FROM recordings WHERE id = ?").bind(id),
	]);
}
