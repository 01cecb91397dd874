import type { UploadView } from "../../durable-objects/uploads-tus-upload";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import type { ObjectPart } from "../platform/r2-object";
import { findUploads, insertFinalUpload } from "./db";
import { objectKey, R2_MIN_PART_BYTES } from "./domain";
import { adoptUpload, refusalError, uploadLimits, uploadStub } from "./service";

/**
 * tus concatenation without copying: R2's Worker binding has no UploadPartCopy, so a final upload
 * is virtual — its content is its partials' R2 objects in order (every reader streams them part
 * by part, src/platform/r2-object.ts). Creating it adopts the partials: they end (404 from then
 * on, as tus allows) and their objects are the final's, deleted when it is terminated.
 */

export type NewFinal = {
	tenantId: string;
	partialIds: string[];
	metadata: string | null;
	filename: string | null;
	filetype: string | null;
};

/**
 * Creates a final upload from the tenant's complete partial uploads, in order: 404 for an unknown
 * one (another tenant's too), 400 for one that is not a partial upload or not complete, 413 when
 * together they pass UPLOAD_MAX_BYTES.
 */
export async function createFinalUpload(env: Env, input: NewFinal): Promise<{ id: string; view: UploadView }> {
	const rows = new Map((await findUploads(env.DB, input.tenantId, input.partialIds)).map((r) => [r.id, r]));
	const objects: ObjectPart[] = [];
	for (const partialId of input.partialIds) {
		const row = rows.get(partialId);
		if (!row || row.status === "terminated" || row.status === "failed")
			throw refusalError(partialId, { ok: false, code: "not_found" });
		if (row.concat !== "partial")
			throw new AppError(400, "concat_not_partial", `Upload ${partialId} was not created with Upload-Concat: partial.`);
		if (row.status !== "complete")
			throw new AppError(
				400,
				"concat_partial_incomplete",
				`Partial upload ${partialId} is ${row.status}; finish it first.`,
				{
					upload_id: partialId,
					status: row.status,
				},
			);
		const head = await env.RECORDINGS.head(row.r2_key);
		if (!head) throw new AppError(409, "upload_content_missing", `The content of upload ${partialId} is gone.`);
		objects.push({ key: row.r2_key, size: head.size, etag: head.httpEtag });
	}
	const length = objects.reduce((sum, o) => sum + o.size, 0);
	const { maxBytes } = uploadLimits(env);
	if (length > maxBytes)
		throw new AppError(413, "upload_too_large", `Uploads are limited to ${maxBytes} bytes (Tus-Max-Size).`, {
			max_bytes: maxBytes,
		});
	await adoptAll(env, input.tenantId, input.partialIds, objects);
	const id = newId("upl");
	const now = Date.now();
	const r2Key = objectKey(input.tenantId, id);
	await insertFinalUpload(env.DB, {
		id,
		tenant_id: input.tenantId,
		length,
		filename: input.filename,
		filetype: input.filetype,
		status: "complete",
		r2_key: r2Key,
		created_at: now,
		completed_at: now,
		finished_at: now,
		concat: "final",
		concat_parts: JSON.stringify(objects),
	});
	const view = await uploadStub(env, id).createFinal({
		id,
		tenantId: input.tenantId,
		r2Key,
		metadata: input.metadata,
		createdAt: now,
		partSize: R2_MIN_PART_BYTES,
		partialIds: input.partialIds,
		objects,
	});
	return { id, view };
}

/**
 * Adopts every partial. One that was terminated or joined another final meanwhile fails the
 * creation; the objects of those adopted before it are deleted (they belong to no upload now).
 */
async function adoptAll(env: Env, tenantId: string, ids: string[], objects: ObjectPart[]): Promise<void> {
	for (const [i, partialId] of ids.entries()) {
		try {
			await adoptUpload(env, tenantId, partialId);
		} catch (error) {
			if (i > 0) await env.RECORDINGS.delete(objects.slice(0, i).map((o) => o.key));
			throw error;
		}
	}
}
