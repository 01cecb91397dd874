import { describeRoute } from "hono-openapi";
import type { DescribeRouteOptions } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Uploads' (tus 1.0, docs/uploads.md) route descriptions and answers. */

type TusStatus = 410 | 412 | 416 | 423 | 460;

const ERROR_JSON = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
const TUS_ERRORS: Record<TusStatus, string> = {
	410: "The upload expired (its R2 multipart upload was aborted) or was finished.",
	412: "Tus-Resumable is missing or names another version (Tus-Version lists ours).",
	416: "The Range starts past the end of the content.",
	423: "Another PATCH to this upload is in progress; retry after it.",
	460: "Upload-Checksum does not match the body; the chunk was discarded and the offset is unchanged.",
};
const header = (description: string) => ({ description, schema: { type: "string" as const } });
const TUS_ANSWER = {
	"Tus-Resumable": header("1.0.0"),
	"Upload-Offset": header("Bytes received and durable."),
	"Upload-Length": header("The upload's size (absent while deferred)."),
	"Upload-Defer-Length": header("1 while the length is deferred."),
	"Upload-Expires": header("When an unfinished upload expires (RFC 9110 date)."),
};

const uploadSchema = z
	.object({
		id: z.string(),
		status: z.enum(["uploading", "complete", "expired", "terminated", "failed"]),
		offset: z.number().int(),
		length: z.number().int().nullable(),
		filename: z.string().nullable(),
		filetype: z.string().nullable(),
		part_size: z.number().int().describe("The R2 part size fixed at creation."),
		expires_at: z.number().int().nullable(),
		created_at: z.number().int(),
		completed_at: z.number().int().nullable(),
	})
	.meta({ id: "Upload" });

const uploads = (
	doc: Omit<RouteDoc, "tags" | "access">,
	tus: TusStatus[] = [],
	access: RouteDoc["access"] = "tenant",
) => describeRoute(withTusErrors(apiRoute({ tags: ["Uploads"], access, ...doc }), tus));

const discovery = {
	summary: "tus discovery: Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm",
	ok: {
		204: {
			description: "What this tus server supports.",
			headers: {
				"Tus-Version": header("1.0.0"),
				"Tus-Extension": header("creation,creation-with-upload,creation-defer-length,expiration,checksum,termination"),
				"Tus-Max-Size": header("UPLOAD_MAX_BYTES."),
				"Tus-Checksum-Algorithm": header("sha1,sha256"),
			},
		},
	},
};

export const uploadDocs = {
	options: uploads(discovery, [], "none"),
	optionsUpload: uploads(discovery, [], "none"),
	create: uploads(
		{
			summary: "Create a tus upload (creation, creation-with-upload, creation-defer-length)",
			description:
				"Upload-Length (or Upload-Defer-Length: 1) and Upload-Metadata (`filename`, `filetype`); a body with " +
				"Content-Type application/offset+octet-stream is the first chunk. 429 with Retry-After over the tenant's " +
				"quota of unfinished uploads or bytes in flight. Concatenation: `Upload-Concat: partial` marks a partial " +
				"upload; `Upload-Concat: final;<url> …` (no Upload-Length, no body) creates a complete upload whose content " +
				"is those complete partial uploads in order (not copied; the partials end): 404 for another tenant's, 400 " +
				"for one not partial or not complete.",
			ok: {
				201: {
					description: "Created; Location is the upload's absolute URL.",
					headers: { Location: header("The upload URL."), ...TUS_ANSWER },
				},
			},
			errors: [400, 404, 413, 415],
		},
		[412],
	),
	read: uploads(
		{
			summary: "Read an upload (HEAD: its tus offset)",
			description:
				"HEAD answers the tus headers (Upload-Offset, Upload-Length or Upload-Defer-Length, Upload-Expires, " +
				"Upload-Metadata, Upload-Concat for partial and final uploads) with Cache-Control: no-store and no body; " +
				"GET answers them as JSON.",
			ok: { 200: uploadSchema },
			errors: [404],
		},
		[410, 412],
	),
	patch: uploads(
		{
			summary: "Append a chunk at Upload-Offset (Content-Type application/offset+octet-stream)",
			description:
				"The offset moves only once the bytes are durable in R2; the last chunk completes the object. 403 for a " +
				"final (concatenated) upload: it takes no data.",
			ok: { 204: { description: "Appended.", headers: TUS_ANSWER } },
			errors: [403, 404, 409, 413, 415],
		},
		[410, 412, 423, 460],
	),
	terminate: uploads(
		{
			summary: "Terminate an upload (tus termination): its data is removed",
			ok: { 204: { description: "Terminated; the URL now answers 404." } },
			errors: [404],
		},
		[410, 412],
	),
	content: uploads(
		{
			summary: "Download a finished upload (Range requests: 206, Accept-Ranges, ETag)",
			ok: {
				200: {
					description: "The bytes (206 with Content-Range for a Range).",
					headers: { "Accept-Ranges": header("bytes"), ETag: header("The object's ETag.") },
					content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
				},
			},
			errors: [404, 409],
		},
		[416],
	),
};

/** The tus statuses that the platform's shared error responses do not name, added to one route. */
function withTusErrors(options: DescribeRouteOptions, statuses: TusStatus[]): DescribeRouteOptions {
	const responses = { ...options.responses };
	for (const status of statuses) responses[String(status)] = { description: TUS_ERRORS[status], content: ERROR_JSON };
	return { ...options, responses };
}
