import type { RecordingRow } from "./db";
import { findRecording } from "./db";
import type { ArtifactRow } from "./artifacts-db";
import { deleteArtifact, findArtifact, MAX_ARTIFACTS, upsertArtifact } from "./artifacts-db";
import { artifactKey, contentTypeFor } from "./domain";
import { AppError } from "../platform/errors";
import { adoptUpload, completeUploadObject } from "../uploads/service";

/**
 * Writing a recording's artifacts: a small one PUT in one request (streamed into R2), a large one
 * uploaded with tus first and then attached (its R2 object becomes the artifact's, not copied).
 */

/** PUT: the body streamed into R2 under the artifact's key; 413 over RECORDINGS_ARTIFACT_MAX_BYTES. */
export async function putArtifact(
	env: Env,
	rec: RecordingRow,
	name: string,
	body: ReadableStream<Uint8Array> | null,
	headers: { contentLength: string | undefined; contentType: string | undefined },
): Promise<ArtifactRow> {
	const max = Number(env.RECORDINGS_ARTIFACT_MAX_BYTES);
	const length = Number(headers.contentLength ?? "NaN");
	if (!Number.isSafeInteger(length) || length < 0)
		throw new AppError(400, "content_length_required", "Send the artifact with a Content-Length.");
	if (length > max)
		throw new AppError(
			413,
			"artifact_too_large",
			`Artifacts sent in one PUT are limited to ${max} bytes; upload it with tus and attach it (POST).`,
			{ max_bytes: max },
		);
	const contentType = headers.contentType ?? contentTypeFor(name);
	const key = artifactKey(rec.tenant_id, rec.id, name);
	const previous = await findArtifact(env.DB, rec.id, name);
	// Streamed into R2 (the length is known), never buffered; the row makes it visible afterwards.
	const object = await env.RECORDINGS.put(key, body ?? new Uint8Array(), { httpMetadata: { contentType } });
	const row = {
		recording_id: rec.id,
		name,
		r2_key: key,
		size: object.size,
		content_type: contentType,
		etag: object.httpEtag,
		created_at: Date.now(),
	};
	if (!(await upsertArtifact(env.DB, row))) {
		await env.RECORDINGS.delete(key);
		throw tooMany();
	}
	await afterWrite(env, rec, row, previous);
	return row;
}

/**
 * Attaches a complete tus upload of the same tenant as an artifact, without copying: the artifact
 * points at the upload's object, and the upload ends (it is the artifact's now). 404 for an
 * unknown upload (another tenant's too), 409 while it is not complete.
 */
export async function attachUpload(
	env: Env,
	rec: RecordingRow,
	name: string,
	uploadId: string,
	contentType: string | undefined,
): Promise<ArtifactRow> {
	const upload = await completeUploadObject(env, rec.tenant_id, uploadId);
	if (upload.parts)
		throw new AppError(
			409,
			"upload_concatenated",
			`Upload ${uploadId} is a final (concatenated) upload; attach a single upload (send it without parallel parts).`,
		);
	const previous = await findArtifact(env.DB, rec.id, name);
	const row = {
		recording_id: rec.id,
		name,
		r2_key: upload.key,
		size: upload.size,
		content_type: contentType ?? upload.contentType ?? contentTypeFor(name),
		etag: upload.etag,
		created_at: Date.now(),
	};
	if (!(await upsertArtifact(env.DB, row))) throw tooMany();
	try {
		await adoptUpload(env, rec.tenant_id, uploadId);
	} catch (error) {
		// Terminated or attached elsewhere meanwhile: the artifact must not point at an object it does not own.
		if (previous) await upsertArtifact(env.DB, previous);
		else await deleteArtifact(env.DB, rec.id, name);
		throw error;
	}
	await afterWrite(env, rec, row, previous);
	return row;
}

/** Frees what the write replaced or orphaned: the previous object under another key; everything if the recording went meanwhile. */
async function afterWrite(env: Env, rec: RecordingRow, row: ArtifactRow, previous: ArtifactRow | null): Promise<void> {
	if (previous && previous.r2_key !== row.r2_key) await env.RECORDINGS.delete(previous.r2_key);
	// The recording may have been deleted while the bytes streamed: leave nothing behind.
	if (!(await findRecording(env.DB, rec.tenant_id, rec.id))) await env.RECORDINGS.delete(row.r2_key);
}

function tooMany(): AppError {
	return new AppError(409, "too_many_artifacts", `A recording holds at most ${MAX_ARTIFACTS} artifacts.`);
}
