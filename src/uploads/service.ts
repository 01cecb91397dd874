import type { Context } from "hono";
import type { PatchResult, Refusal, TusUpload, UploadView } from "../../durable-objects/uploads-tus-upload";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import type { ErrorBody } from "../platform/errors";
import { AppError } from "../platform/errors";
import { findUpload, finishUpload, insertUploadWithinQuota } from "./db";
import type { Concat } from "./domain";
import { httpDate, objectKey, partSizeFor } from "./domain";
import { tooLarge } from "./middleware";
import { storedUpload } from "./content";
import type { ObjectPart } from "../platform/r2-object";

export type UploadStub = DurableObjectStub<TusUpload>;
export type UploadLimits = {
	maxBytes: number;
	maxPatchBytes: number;
	expirySeconds: number;
	maxActive: number;
	maxBytesInFlight: number;
};
export type NewUpload = {
	tenantId: string;
	length: number | null;
	metadata: string | null;
	filename: string | null;
	filetype: string | null;
	concat: "partial" | null;
};

/** A complete upload's R2 object, as another feature takes it over (a recording artifact). */
export type UploadObject = {
	key: string;
	size: number;
	etag: string;
	contentType: string | null;
	filename: string | null;
	/** A final (concatenated) upload: its content is these objects in order, `key` has none. */
	parts: readonly ObjectPart[] | null;
};

/** How long a client over its upload quota is asked to wait: uploads finish or expire meanwhile. */
const QUOTA_RETRY_AFTER_SECONDS = 60;

export function uploadLimits(env: Env): UploadLimits {
	return {
		maxBytes: Number(env.UPLOAD_MAX_BYTES),
		maxPatchBytes: Number(env.UPLOAD_MAX_PATCH_BYTES),
		expirySeconds: Number(env.UPLOAD_EXPIRY_SECONDS),
		maxActive: Number(env.UPLOAD_MAX_ACTIVE_PER_TENANT),
		maxBytesInFlight: Number(env.UPLOAD_MAX_BYTES_IN_FLIGHT),
	};
}

/** The object of one upload; the tenant is checked inside it (another tenant's id → not_found). */
export function uploadStub(env: Env, uploadId: string): UploadStub {
	return env.TUS_UPLOADS.getByName(uploadId);
}

/** Creates the D1 row (within the tenant's quotas, else 429) and the upload's object and R2 multipart upload. */
export async function createUpload(env: Env, upload: NewUpload): Promise<{ id: string; view: UploadView }> {
	const limits = uploadLimits(env);
	const id = newId("upl");
	const now = Date.now();
	const r2Key = objectKey(upload.tenantId, id);
	const row = {
		id,
		tenant_id: upload.tenantId,
		length: upload.length,
		filename: upload.filename,
		filetype: upload.filetype,
		status: "uploading" as const,
		r2_key: r2Key,
		created_at: now,
		completed_at: null,
		finished_at: null,
		concat: upload.concat,
		concat_parts: null,
	};
	if (!(await insertUploadWithinQuota(env.DB, row, limits))) {
		throw new AppError(
			429,
			"upload_quota_exceeded",
			`Too many unfinished uploads (at most ${limits.maxActive}, ${limits.maxBytesInFlight} bytes together); ` +
				"finish or terminate one, or try again later.",
			{ max_active: limits.maxActive, max_bytes_in_flight: limits.maxBytesInFlight },
			{ "Retry-After": String(QUOTA_RETRY_AFTER_SECONDS) },
		);
	}
	try {
		const view = await uploadStub(env, id).create({
			id,
			tenantId: upload.tenantId,
			length: upload.length,
			partSize: partSizeFor(upload.length ?? limits.maxBytes),
			r2Key,
			expiresAt: now + limits.expirySeconds * 1000,
			metadata: upload.metadata,
			createdAt: now,
			filename: upload.filename,
			filetype: upload.filetype,
			concat: upload.concat,
		});
		return { id, view };
	} catch (error) {
		// Frees the quota place: the upload never existed for the client.
		await finishUpload(env.DB, id, "failed", Date.now());
		throw error;
	}
}

/** The tus headers describing an upload (HEAD, and the answers to POST and PATCH). */
export function tusHeaders(view: UploadView, withMetadata: boolean): Record<string, string> {
	return {
		"Upload-Offset": String(view.offset),
		...(view.length === null ? { "Upload-Defer-Length": "1" } : { "Upload-Length": String(view.length) }),
		...(view.expiresAt === null ? {} : { "Upload-Expires": httpDate(view.expiresAt) }),
		...(withMetadata && view.metadata !== null ? { "Upload-Metadata": view.metadata } : {}),
		...(view.concat === null ? {} : { "Upload-Concat": concatHeader(view.concat) }),
	};
}

/** A refused request to an upload object as the platform's error (tus: 404, 410, 423). */
export function refusalError(uploadId: string, refusal: Refusal): AppError {
	switch (refusal.code) {
		case "not_found":
			return new AppError(404, "upload_not_found", `No upload ${uploadId}.`);
		case "gone":
			return new AppError(410, "upload_gone", `Upload ${uploadId} has expired or finished; start a new one.`);
		case "busy":
			return new AppError(423, "upload_busy", `Another PATCH to upload ${uploadId} is in progress.`, undefined, {
				"Retry-After": "1",
			});
	}
}

/** A failed PATCH as a response: the platform's error shape, with tus's own 460 for a checksum mismatch. */
export function patchFailure(c: Context<AppEnv>, uploadId: string, result: Exclude<PatchResult, { ok: true }>) {
	switch (result.code) {
		case "offset_mismatch":
			return new AppError(409, "offset_mismatch", `Upload-Offset must be ${result.offset}, the server's offset.`, {
				offset: result.offset,
			});
		case "checksum_mismatch":
			return checksumMismatch(c);
		case "too_large":
			return tooLarge(uploadLimits(c.env).maxPatchBytes);
		case "length_invalid":
			return new AppError(
				400,
				"upload_length_invalid",
				"Upload-Length is fixed, below the offset or over the maximum.",
			);
		case "interrupted":
			return new AppError(400, "body_interrupted", "The body ended early; with Upload-Checksum nothing of it is kept.");
		case "final":
			return new AppError(
				403,
				"upload_final",
				`Upload ${uploadId} is a final (concatenated) upload: it takes no data.`,
			);
		default:
			return refusalError(uploadId, result);
	}
}

/** 460 Checksum Mismatch (tus checksum extension): not a status Hono types, so built here. */
function checksumMismatch(c: Context<AppEnv>): Response {
	const body: ErrorBody = {
		error: { code: "checksum_mismatch", message: "Upload-Checksum does not match the body; the chunk was discarded." },
		request_id: c.get("requestId"),
	};
	return new Response(JSON.stringify(body), { status: 460, headers: { "Content-Type": "application/json" } });
}

/**
 * The object of a tenant's complete upload: 404 for an unknown upload (another tenant's too, or
 * terminated), 409 while it is not complete (uploading, expired).
 */
export async function completeUploadObject(env: Env, tenantId: string, uploadId: string): Promise<UploadObject> {
	const row = await findUpload(env.DB, tenantId, uploadId);
	if (!row || row.status === "terminated" || row.status === "failed") {
		throw refusalError(uploadId, { ok: false, code: "not_found" });
	}
	if (row.status !== "complete") throw incomplete(uploadId, row.status);
	const stored = storedUpload(row);
	if (stored.parts)
		return {
			key: row.r2_key,
			size: stored.size,
			etag: "",
			contentType: row.filetype,
			filename: row.filename,
			parts: stored.parts,
		};
	const head = await env.RECORDINGS.head(row.r2_key);
	if (!head) throw new AppError(409, "upload_content_missing", `The content of upload ${uploadId} is gone.`);
	return {
		key: row.r2_key,
		size: head.size,
		etag: head.httpEtag,
		contentType: row.filetype,
		filename: row.filename,
		parts: null,
	};
}

/**
 * Where a complete upload's bytes are, for readers outside this feature (a recording's source):
 * a final upload's partials' objects in order; null for an upload that is not (or no longer) a
 * complete one of this tenant, whose reader then falls back to the object key it kept.
 */
export async function uploadParts(env: Env, tenantId: string, uploadId: string): Promise<readonly ObjectPart[] | null> {
	const row = await findUpload(env.DB, tenantId, uploadId);
	return row?.status === "complete" ? (storedUpload(row).parts ?? null) : null;
}

/**
 * Takes over a complete upload's object: the upload ends (terminated: 404 from now on, its row
 * purged by retention) and its R2 object is the caller's from now on, not copied.
 */
export async function adoptUpload(env: Env, tenantId: string, uploadId: string): Promise<void> {
	const result = await uploadStub(env, uploadId).adopt(tenantId);
	if (result.ok) return;
	if (result.code === "incomplete") throw incomplete(uploadId, result.view.status);
	throw refusalError(uploadId, result);
}

/** Upload-Concat as HEAD answers it: `partial`, or `final;` and the partials' paths in order. */
function concatHeader(concat: Concat): string {
	return concat.kind === "partial" ? "partial" : `final;${concat.ids.map((id) => `/api/v1/uploads/${id}`).join(" ")}`;
}

function incomplete(uploadId: string, status: string): AppError {
	return new AppError(
		409,
		"upload_incomplete",
		`Upload ${uploadId} is ${status}; only a complete upload can be used.`,
		{
			status,
		},
	);
}
