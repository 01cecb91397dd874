/** D1 access of recording artifacts and events (migrations/0029_create_recordings.sql). */

export type ArtifactRow = {
	recording_id: string;
	name: string;
	r2_key: string;
	size: number;
	content_type: string;
	etag: string;
	created_at: number;
};

export type EventRow = { seq: number; recording_id: string; type: string; data: string; created_at: number };

/** Most artifacts one recording may hold (segments' intermediates included). */
export const MAX_ARTIFACTS = 500;

/** Records an artifact (a re-upload replaces it) unless the recording is at MAX_ARTIFACTS. False when refused. */
export async function upsertArtifact(db: D1Database, row: ArtifactRow): Promise<boolean> {
	const result = await db
		.prepare(
			`INSERT INTO recording_artifacts (recording_id, name, r2_key, size, content_type, etag, created_at)
			 SELECT ?, ?, ?, ?, ?, ?, ?
			 WHERE (SELECT COUNT(*) FROM recording_artifacts WHERE recording_id = ? AND name <> ?) < ?
			 ON CONFLICT (recording_id, name) DO UPDATE SET
			   r2_key = excluded.r2_key, size = excluded.size, content_type = excluded.content_type,
			   etag = excluded.etag, created_at = excluded.created_at`,
		)
		.bind(
			row.recording_id,
			row.name,
			row.r2_key,
			row.size,
			row.content_type,
			row.etag,
			row.created_at,
			row.recording_id,
			row.name,
			MAX_ARTIFACTS,
		)
		.run();
	return result.meta.changes === 1;
}

export async function findArtifact(db: D1Database, recordingId: string, name: string): Promise<ArtifactRow | null> {
	return db
		.prepare("SELECT * FROM recording_artifacts WHERE recording_id = ? AND name = ?")
		.bind(recordingId, name)
		.first<ArtifactRow>();
}

export async function listArtifacts(db: D1Database, recordingId: string): Promise<ArtifactRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM recording_artifacts WHERE recording_id = ? ORDER BY name LIMIT ?")
		.bind(recordingId, MAX_ARTIFACTS)
		.all<ArtifactRow>();
	return results;
}

export async function insertEvent(
	db: D1Database,
	recordingId: string,
	type: string,
	data: unknown,
	now: number,
): Promise<void> {
	await db
		.prepare("INSERT INTO recording_events (recording_id, type, data, created_at) VALUES (?, ?, ?, ?)")
		.bind(recordingId, type, JSON.stringify(data), now)
		.run();
}

/** Up to `limit` events of a recording after `seq`, oldest first. */
export async function eventsAfter(
	db: D1Database,
	recordingId: string,
	seq: number,
	limit: number,
): Promise<EventRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM recording_events WHERE recording_id = ? AND seq > ? ORDER BY seq LIMIT ?")
		.bind(recordingId, seq, limit)
		.all<EventRow>();
	return results;
}

export async function deleteArtifact(db: D1Database, recordingId: string, name: string): Promise<void> {
	await db.prepare("DELETE FROM recording_artifacts WHERE recording_id = ? AND name = ?").bind(recordingId, name).run();
}
