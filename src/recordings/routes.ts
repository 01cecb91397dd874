import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { findRecording, listRecordings } from "./db";
import { eventsAfter, findArtifact } from "./artifacts-db";
import { attachUpload, putArtifact } from "./artifacts";
import { ARTIFACT_NAME } from "./domain";
import { recordingDocs } from "./openapi";
import { objectResponse } from "../platform/r2-object";
import { uploadParts } from "../uploads/service";
import {
	artifactJson,
	createRecording,
	deleteRecording,
	recordingJson,
	requireRecording,
	summaryJson,
} from "./service";

const RECORDING_ID = z.string().regex(/^rec_[0-9a-f]{24}$/, "a recording id (rec_…)");
const UPLOAD_ID = z.string().regex(/^upl_[0-9a-f]{24}$/, "an upload id (upl_…)");
const idParam = z.object({ id: RECORDING_ID });
const artifactParam = z.object({ id: RECORDING_ID, name: z.string().regex(ARTIFACT_NAME, "an artifact name") });
const createBody = z
	.object({
		meeting_id: z.string().min(1).max(128),
		upload_id: UPLOAD_ID,
		title: z.string().min(1).max(300).optional(),
	})
	.strict();
const attachBody = z
	.object({
		upload_id: UPLOAD_ID,
		content_type: z.string().min(1).max(200).optional(),
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
			// A concatenated upload has no object of its own: its partials' objects, streamed in order.
			parts: await uploadParts(c.env, rec.tenant_id, rec.upload_id),
		};
		return objectResponse(c.env.RECORDINGS, stored, c.req.header("Range"), c.req.header("If-None-Match"));
	})
	.put("/:id/artifacts/:name", recordingDocs.putArtifact, validate("param", artifactParam), async (c) => {
		const { id, name } = c.req.valid("param");
		const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, id);
		const row = await putArtifact(c.env, rec, name, c.req.raw.body, {
			contentLength: c.req.header("Content-Length"),
			contentType: c.req.header("Content-Type"),
		});
		return c.json(artifactJson(row), 201);
	})
	.post(
		"/:id/artifacts/:name",
		recordingDocs.attachArtifact,
		validate("param", artifactParam),
		validate("json", attachBody),
		async (c) => {
			const { id, name } = c.req.valid("param");
			const body = c.req.valid("json");
			const rec = await requireRecording(c.env.DB, c.get("principal").tenantId, id);
			return c.json(artifactJson(await attachUpload(c.env, rec, name, body.upload_id, body.content_type)), 201);
		},
	)
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
