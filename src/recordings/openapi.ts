import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Recordings' answers as schemas and its routes' OpenAPI descriptions. */

const stageSchema = z
	.object({
		name: z.string(),
		status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
		progress: z.number().describe("Finished segments / segments, 0–1."),
		segments: z.number().int(),
		segments_done: z.number().int(),
		attempts: z.number().int(),
		error: z.string().nullable(),
		job_ids: z.array(z.string()),
		started_at: z.string().nullable(),
		completed_at: z.string().nullable(),
		updated_at: z.string(),
	})
	.meta({ id: "RecordingStage" });
const artifactSchema = z
	.object({
		name: z.string(),
		size: z.number().int(),
		content_type: z.string(),
		etag: z.string(),
		url: z.string(),
		created_at: z.string(),
	})
	.meta({ id: "RecordingArtifact" });
const summarySchema = z.object({
	recording_id: z.string(),
	meeting_id: z.string(),
	upload_id: z.string(),
	title: z.string().nullable(),
	kind: z.string(),
	status: z.enum(["queued", "processing", "ready", "failed"]),
	source_bytes: z.number().int(),
	segments: z.number().int(),
	created_at: z.string(),
	finished_at: z.string().nullable(),
});
const recordingSchema = summarySchema
	.extend({ stages: z.array(stageSchema), artifacts: z.array(artifactSchema) })
	.meta({ id: "Recording" });
const binary = (description: string) => ({
	description,
	headers: {
		"Accept-Ranges": { description: "bytes", schema: { type: "string" as const } },
		ETag: { description: "The object's ETag.", schema: { type: "string" as const } },
	},
	content: { "application/octet-stream": { schema: { type: "string" as const, format: "binary" } } },
});

const recordings = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Recordings"], access: "tenant", ...doc }));

export const recordingDocs = {
	create: recordings({
		summary: "Create the recording of a meeting from a complete upload (idempotent per meeting)",
		ok: { 200: recordingSchema, 202: recordingSchema },
		errors: [404, 409],
	}),
	list: recordings({
		summary: "List recordings (optionally of one meeting), cursor-paginated",
		ok: { 200: z.object({ recordings: z.array(summarySchema), next_cursor: z.string().nullable() }) },
	}),
	get: recordings({
		summary: "Read a recording: every stage with status, progress, attempts, error, and its artifacts",
		ok: { 200: recordingSchema },
		errors: [404],
	}),
	remove: recordings({
		summary: "Delete a recording: cancels unfinished stage jobs and removes its artifacts",
		ok: { 204: { description: "Deleted." } },
		errors: [404],
	}),
	source: recordings({
		summary: "Read the recording's source bytes (Range requests: 206) — the input of stage workers",
		ok: { 200: binary("The source (206 with Content-Range for a Range).") },
		errors: [404],
	}),
	putArtifact: recordings({
		summary: "Upload an artifact in one PUT (size capped by RECORDINGS_ARTIFACT_MAX_BYTES)",
		ok: { 201: artifactSchema },
		errors: [404, 409, 413],
	}),
	attachArtifact: recordings({
		summary:
			"Attach a complete tus upload as an artifact (of whatever size, no copy: the upload's object becomes the artifact's)",
		description:
			"Body `{upload_id, content_type?}`. The upload must be the same tenant's (else 404) and complete (else 409); " +
			"it ends (terminated) and its R2 object is the artifact's from then on.",
		ok: { 201: artifactSchema },
		errors: [400, 404, 409],
	}),
	getArtifact: recordings({
		summary: "Stream an artifact as soon as it exists (Range: 206, Accept-Ranges, ETag)",
		ok: { 200: binary("The artifact (206 with Content-Range for a Range).") },
		errors: [404],
	}),
	events: recordings({
		summary: "Server-Sent Events: stage completed, recording ready or failed (bounded lifetime)",
		ok: {
			200: {
				description: "An event stream; reconnect with Last-Event-ID.",
				content: { "text/event-stream": { schema: { type: "string" } } },
			},
		},
		errors: [404],
	}),
};
