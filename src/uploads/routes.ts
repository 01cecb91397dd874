import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { findUpload } from "./db";
import {
	CHECKSUM_ALGORITHMS,
	MAX_CONCAT_PARTS,
	OFFSET_OCTET_STREAM,
	parseConcat,
	parseByteCount,
	parseChecksum,
	parseMetadata,
	TUS_EXTENSIONS,
	TUS_VERSION,
} from "./domain";
import { uploadDocs } from "./openapi";
import { createUpload, patchFailure, refusalError, tusHeaders, uploadLimits, uploadStub } from "./service";
import { contentResponse } from "./content";
import { createFinalUpload } from "./concat";

const idParams = z.object({ id: z.string().regex(/^upl_[0-9a-f]{24}$/, "an upload id (upl_…)") });
const byteCount = z.string().regex(/^(?:0|[1-9][0-9]{0,15})$/, "a byte count");
const tusResumable = z.string().describe(`Must be ${TUS_VERSION}; another version gets 412.`);
const createHeaders = z.object({
	"tus-resumable": tusResumable,
	"upload-length": byteCount.optional().describe("The upload's size in bytes (or send Upload-Defer-Length: 1)."),
	"upload-defer-length": z.literal("1").optional(),
	"upload-metadata": z.string().optional().describe("`filename <base64>,filetype <base64>` (tus creation)."),
	"upload-concat": z
		.string()
		.max(8_000)
		.optional()
		.describe("tus concatenation: `partial`, or `final;<url> <url> …` naming complete partial uploads in order."),
	"content-type": z.string().optional(),
});
const patchHeaders = z.object({
	"tus-resumable": tusResumable,
	"upload-offset": byteCount.describe("Must equal the server's offset (HEAD); else 409."),
	"upload-length": byteCount.optional().describe("Declares a deferred length."),
	"upload-checksum": z.string().optional().describe("`sha1 <base64>` or `sha256 <base64>` of this body; else 460."),
	"content-type": z.string().optional(),
});
const tusHeadersOnly = z.object({ "tus-resumable": tusResumable.optional() });

/** OPTIONS: what this tus server supports; no credential (CORS preflights and discovery). */
export const uploadDiscoveryRoutes = new Hono<AppEnv>()
	.options("/", uploadDocs.options, (c) => c.body(null, 204, discovery(c.env)))
	.options("/:id", uploadDocs.optionsUpload, (c) => c.body(null, 204, discovery(c.env)));

/** tus 1.0 uploads into R2 (docs/uploads.md), behind tenant auth and the gateway limiter. */
export const uploadRoutes = new Hono<AppEnv>()
	.post("/", uploadDocs.create, validate("header", createHeaders), async (c) => {
		const headers = c.req.valid("header");
		const limits = uploadLimits(c.env);
		const concat = headers["upload-concat"] === undefined ? null : parseConcat(headers["upload-concat"], c.req.url);
		if (headers["upload-concat"] !== undefined && !concat)
			throw new AppError(
				400,
				"upload_concat_invalid",
				`Upload-Concat: partial, or final;<url> … (1–${MAX_CONCAT_PARTS} uploads).`,
			);
		if (concat?.kind === "final") return createFinal(c, concat.ids, headers);
		const length = parseByteCount(headers["upload-length"]);
		if (length === null && headers["upload-defer-length"] !== "1") {
			throw new AppError(400, "upload_length_required", "Send Upload-Length, or Upload-Defer-Length: 1.");
		}
		if (length !== null && length > limits.maxBytes) {
			throw new AppError(413, "upload_too_large", `Uploads are limited to ${limits.maxBytes} bytes (Tus-Max-Size).`, {
				max_bytes: limits.maxBytes,
			});
		}
		const metadata = parseMetadata(headers["upload-metadata"]);
		if (!metadata) throw new AppError(400, "upload_metadata_invalid", "Upload-Metadata: `key base64value` pairs.");
		const withBody = c.req.raw.body !== null && c.req.header("Content-Length") !== "0";
		if (withBody && headers["content-type"] !== OFFSET_OCTET_STREAM) throw unsupportedType();
		const { tenantId } = c.get("principal");
		let { id, view } = await createUpload(c.env, {
			tenantId,
			length,
			metadata: headers["upload-metadata"] ?? null,
			filename: metadata.filename ?? null,
			filetype: metadata.filetype ?? null,
			concat: concat?.kind ?? null,
		});
		if (withBody) {
			// creation-with-upload: the body is the first PATCH (offset 0).
			const result = await uploadStub(c.env, id).patch(patchRequest(c.env, tenantId, 0, null, null), c.req.raw.body);
			// The upload exists either way: the client learns its URL and offset, and resumes.
			if (result.ok) view = result.view;
		}
		return c.body(null, 201, { Location: locationOf(c, id), ...tusHeaders(view, false) });
	})
	.get("/:id", uploadDocs.read, validate("header", tusHeadersOnly), validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const { tenantId } = c.get("principal");
		const result = await uploadStub(c.env, id).inspect(tenantId);
		if (!result.ok) throw refusalError(id, result);
		// HEAD (Hono answers it with this GET route): the tus offset, never cached.
		if (c.req.method === "HEAD")
			return c.body(null, 200, { ...tusHeaders(result.view, true), "Cache-Control": "no-store" });
		const row = await findUpload(c.env.DB, tenantId, id);
		if (!row) throw refusalError(id, { ok: false, code: "not_found" });
		return c.json(
			{
				id,
				status: result.view.status,
				offset: result.view.offset,
				length: result.view.length,
				filename: row.filename,
				filetype: row.filetype,
				part_size: result.view.partSize,
				expires_at: result.view.expiresAt,
				created_at: row.created_at,
				completed_at: row.completed_at,
			},
			200,
			{ "Cache-Control": "no-store" },
		);
	})
	.patch("/:id", uploadDocs.patch, validate("header", patchHeaders), validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const headers = c.req.valid("header");
		if (headers["content-type"] !== OFFSET_OCTET_STREAM) throw unsupportedType();
		const checksum = headers["upload-checksum"] === undefined ? null : parseChecksum(headers["upload-checksum"]);
		if (checksum === "unsupported" || (headers["upload-checksum"] !== undefined && checksum === null)) {
			throw new AppError(400, "checksum_unsupported", `Upload-Checksum: one of ${CHECKSUM_ALGORITHMS.join(", ")}.`);
		}
		const offset = Number(headers["upload-offset"]);
		const length = parseByteCount(headers["upload-length"]);
		const request = patchRequest(c.env, c.get("principal").tenantId, offset, length, checksum);
		const result = await uploadStub(c.env, id).patch(request, c.req.raw.body);
		if (!result.ok) return failure(patchFailure(c, id, result));
		return c.body(null, 204, tusHeaders(result.view, false));
	})
	.delete("/:id", uploadDocs.terminate, validate("header", tusHeadersOnly), validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const result = await uploadStub(c.env, id).terminate(c.get("principal").tenantId);
		if (!result.ok) throw refusalError(id, result);
		return c.body(null, 204);
	})
	.get("/:id/content", uploadDocs.content, validate("param", idParams), async (c) => {
		const { id } = c.req.valid("param");
		const row = await findUpload(c.env.DB, c.get("principal").tenantId, id);
		if (!row) throw refusalError(id, { ok: false, code: "not_found" });
		if (row.status !== "complete") {
			throw new AppError(409, "upload_incomplete", `Upload ${id} is ${row.status}; its content exists once complete.`);
		}
		return contentResponse(c.env.RECORDINGS, row, c.req.header("Range"), c.req.header("If-None-Match"));
	});

/** The absolute URL of an upload, from the request's origin. */
function locationOf(c: Context<AppEnv>, id: string): string {
	return new URL(`${c.req.path.replace(/\/$/, "")}/${id}`, c.req.url).toString();
}

/** tus concatenation: a final upload of partials (no Upload-Length, no body; its length is theirs). */
async function createFinal(
	c: Context<AppEnv>,
	partialIds: string[],
	headers: { "upload-length"?: string | undefined; "upload-metadata"?: string | undefined },
) {
	if (headers["upload-length"] !== undefined)
		throw new AppError(
			400,
			"upload_length_forbidden",
			"A final upload takes no Upload-Length: its length is its partials'.",
		);
	if (c.req.raw.body !== null && c.req.header("Content-Length") !== "0")
		throw new AppError(400, "final_upload_body", "A final upload takes no data.");
	const metadata = parseMetadata(headers["upload-metadata"]);
	if (!metadata) throw new AppError(400, "upload_metadata_invalid", "Upload-Metadata: `key base64value` pairs.");
	const { id, view } = await createFinalUpload(c.env, {
		tenantId: c.get("principal").tenantId,
		partialIds,
		metadata: headers["upload-metadata"] ?? null,
		filename: metadata.filename ?? null,
		filetype: metadata.filetype ?? null,
	});
	return c.body(null, 201, { Location: locationOf(c, id), ...tusHeaders(view, false) });
}

function discovery(env: Env): Record<string, string> {
	return {
		"Tus-Version": TUS_VERSION,
		"Tus-Extension": TUS_EXTENSIONS,
		"Tus-Max-Size": env.UPLOAD_MAX_BYTES,
		"Tus-Checksum-Algorithm": CHECKSUM_ALGORITHMS.join(","),
	};
}

function patchRequest(
	env: Env,
	tenantId: string,
	offset: number,
	length: number | null,
	checksum: ReturnType<typeof parseChecksum>,
) {
	const limits = uploadLimits(env);
	return {
		tenantId,
		offset,
		length,
		checksum: checksum === "unsupported" ? null : checksum,
		maxPatchBytes: limits.maxPatchBytes,
		maxLength: limits.maxBytes,
		expirySeconds: limits.expirySeconds,
	};
}

function failure(error: AppError | Response): Response {
	if (error instanceof Response) return error;
	throw error;
}

function unsupportedType(): AppError {
	return new AppError(
		415,
		"unsupported_media_type",
		`Upload data must be sent as Content-Type: ${OFFSET_OCTET_STREAM}.`,
	);
}
