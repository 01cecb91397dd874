import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { findRecording, listRecordings } from "./db";
import { eventsAfter, findArtifact, upsertArtifact, MAX_ARTIFACTS } from "./artifacts-db";
import { ARTIFACT_NAME, artifactKey, contentTypeFor } from "./domain";
import { recordingDocs } from "./openapi";
import { objectResponse } from "../platform/r2-object";
import {
	artifactJson,
	createRecording,
	deleteRecording,
	recordingJson,
	requireRecording,
	summaryJson,
} from "./service";

const RECORDING_ID = z.string().regex(/^rec_[0-9a-f]{24}$/, "a recording id (rec_…)");
const idParam = z.object({ id: RECORDING_ID });
const artifactParam = z.object({ id: RECORDING_ID, name: z.string().regex(ARTIFACT_NAME, "an artifact name") });
const createBody = z
	.object({
		meeting_id: z.string().min(1).max(128),
		upload_id: z.string().regex(/^upl_[0-9a-f]{24}$/, "an upload id (upl_…)"),
		title: z.string().min(1).max(300).optional(),
	})
	.strict();
const listQuery = z
	.object({
		meeting_id: z.string().min(1).max(128).optional(),
		cursor: RECORDING_ID.optional(),
		limit: z.coerce.number().int().min(1).max(100).default(50),
	})
	.strict();
const eventsQuery = z.object({ max_seconds: z.coerce.number().int().min(1).max(300).optional() }).strict();
const POLL_MS = 1_000;

/** Recordings and their pipeline (docs/recordings.md). */
export const recordingRoutes = new Hono<AppEnv>()
	.post("/", recordingDocs.create, validate("json", createBody), async (c) => {
		const { row, created } = await createRecording(c.env, c.get("principal").tenantId, c.req.valid("json"));
		return c.json(await recordingJson(c.env, row), created ? 202 : 200);
	})
	.get("/", recordingDocs.list, validate("query", listQuery), async (c) => {
		const q = c.req.valid("query");
		const rows = await listRecordings(c.env.DB, c.get("principal").tenantId, {
			meetingId: q.meeting_id,
			cursor: q.cursor,
			limit: q.limit + 1,
		});
		const page = rows.slice(0, q.limit);
		const next = rows.length > q.limit ? (page.at(-1)?.id ?? null) : null;
		return c.json({ recordings: page.map(summaryJson), next_cursor: next });
	})
	.get("/:id", recordingDocs.get, validate("param", idParam), async (c) => {
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id);
		return c.json(await recordingJson(c.env, rec));
	})
	.delete("/:id", recordingDocs.remove, validate("param", idParam), async (c) => {
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id);
		await deleteRecording(c.env, rec);
		return c.body(null, 204);
	})
	.get("/:id/source", recordingDocs.source, validate("param", idParam), async (c) => {
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, c.req.valid("param").id);
		const stored = {
			key: rec.source_key,
			size: rec.source_bytes,
			contentType: rec.source_type ?? "application/octet-stream",
		};
		return objectResponse(c.env.RECORDINGS, stored, c.req.header("Range"), c.req.header("If-None-Match"));
	})
	.put("/:id/artifacts/:name", recordingDocs.putArtifact, validate("param", artifactParam), async (c) => {
		const { id, name } = c.req.valid("param");
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, id);
		const max = Number(c.env.RECORDINGS_ARTIFACT_MAX_BYTES);
		const length = Number(c.req.header("Content-Length") ?? "NaN");
		if (!Number.isSafeInteger(length) || length < 0)
			throw new AppError(400, "content_length_required", "Send the artifact with a Content-Length.");
		if (length > max)
			throw new AppError(
				413,
				"artifact_too_large",
				`Artifacts sent in one PUT are limited to ${max} bytes; use a tus upload.`,
				{
					max_bytes: max,
				},
			);
		const contentType = c.req.header("Content-Type") ?? contentTypeFor(name);
		const key = artifactKey(rec.tenant_id, rec.id, name);
		// Streamed into R2 (the length is known), never buffered; the row makes it visible afterwards.
		const object = await c.env.RECORDINGS.put(key, c.req.raw.body ?? new Uint8Array(), {
			httpMetadata: { contentType },
		});
		const row = {
			recording_id: rec.id,
			name,
			r2_key: key,
			size: object.size,
			content_type: contentType,
			etag: object.httpEtag,
			created_at: Date.now(),
		};
		if (!(await upsertArtifact(c.env.DB, row))) {
			await c.env.RECORDINGS.delete(key);
			throw new AppError(409, "too_many_artifacts", `A recording holds at most ${MAX_ARTIFACTS} artifacts.`);
		}
		// The recording may have been deleted while the bytes streamed: leave nothing behind.
		if (!(await findRecording(c.env.DB, rec.tenant_id, rec.id))) await c.env.RECORDINGS.delete(key);
		return c.json(artifactJson(row), 201);
	})
	.get("/:id/artifacts/:name", recordingDocs.getArtifact, validate("param", artifactParam), async (c) => {
		const { id, name } = c.req.valid("param");
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, id);
		const artifact = await findArtifact(c.env.DB, rec.id, name);
		if (!artifact) throw new AppError(404, "artifact_not_found", `Recording ${id} has no artifact ${name} (yet).`);
		const stored = {
			key: artifact.r2_key,
			size: artifact.size,
			contentType: artifact.content_type,
			filename: name,
			disposition: "inline" as const,
		};
		return objectResponse(c.env.RECORDINGS, stored, c.req.header("Range"), c.req.header("If-None-Match"));
	})
	.get("/:id/events", recordingDocs.events, validate("param", idParam), validate("query", eventsQuery), async (c) => {
		const { tenantId } = c.get("principal");
		const rec = await requireRecording(c.env.DB, tenantId, c.req.valid("param").id);
		const seconds = c.req.valid("query").max_seconds ?? Number(c.env.RECORDINGS_EVENTS_STREAM_SECONDS);
		let seq = Number(c.req.header("Last-Event-ID") ?? "0") || 0;
		return streamSSE(c, async (stream) => {
			const until = Date.now() + seconds * 1000;
			while (!stream.aborted && Date.now() < until) {
				// Read the status first: a recording finished now has its last event written already.
				const current = await findRecording(c.env.DB, tenantId, rec.id);
				const events = await eventsAfter(c.env.DB, rec.id, seq, 100);
				for (const e of events) {
					seq = e.seq;
					await stream.writeSSE({ event: e.type, data: e.data, id: String(e.seq) });
				}
				if (events.length === 100) continue;
				if (!current || current.status === "ready" || current.status === "failed") break;
				await stream.sleep(POLL_MS);
			}
		});
	});
