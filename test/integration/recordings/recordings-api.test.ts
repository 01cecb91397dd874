import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { createUpload, patch } from "../uploads/tus-helpers";
import { completeUpload, createRecording, getRecording, putArtifact, stage } from "./recording-helpers";

describe("recordings API", () => {
	it("refuses an upload that is not complete (409) or unknown (404)", async () => {
		const { apiKey } = await createTenant();
		const upload = await createUpload(apiKey, 5_000);
		await patch(apiKey, upload.path, 0, new Uint8Array(100));
		const body = { meeting_id: "m-1", upload_id: upload.id };
		const incomplete = await call("POST", "/api/v1/recordings", { token: apiKey, body });
		expect(incomplete.status).toBe(409);
		expect(((await json(incomplete)).error as Json).code).toBe("upload_incomplete");
		const unknown = { meeting_id: "m-1", upload_id: "upl_000000000000000000000000" };
		expect((await call("POST", "/api/v1/recordings", { token: apiKey, body: unknown })).status).toBe(404);
	});

	it("creates a recording with its stage graph, and a repeat for the meeting returns the same one", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const rec = await createRecording(apiKey, uploadId, "meeting-7");
		expect(rec.status).toBe("processing");
		expect(rec.segments).toBe(3);
		expect((rec.stages as Json[]).map((s) => s.name)).toEqual([
			"audio",
			"video",
			"transcript",
			"highlights",
			"summary",
		]);
		expect(stage(rec, "audio").status).toBe("running");
		expect(stage(rec, "video")).toMatchObject({ status: "running", segments: 3, segments_done: 0, progress: 0 });
		expect((stage(rec, "video").job_ids as string[]).length).toBe(3);
		expect(stage(rec, "highlights")).toMatchObject({ status: "pending", job_ids: [] });

		const again = await call("POST", "/api/v1/recordings", {
			token: apiKey,
			body: { meeting_id: "meeting-7", upload_id: uploadId },
		});
		expect(again.status).toBe(200);
		expect((await json(again)).recording_id).toBe(rec.recording_id);
	});

	it("lists recordings by meeting, cursor-paginated", async () => {
		const { apiKey } = await createTenant();
		const ids: string[] = [];
		for (const meeting of ["a", "b", "c"]) {
			const { id } = await completeUpload(apiKey, 100);
			ids.push(String((await createRecording(apiKey, id, meeting)).recording_id));
		}
		const first = await json(await call("GET", "/api/v1/recordings?limit=2", { token: apiKey }));
		expect((first.recordings as Json[]).length).toBe(2);
		expect(first.next_cursor).not.toBeNull();
		const rest = await json(
			await call("GET", `/api/v1/recordings?limit=2&cursor=${String(first.next_cursor)}`, { token: apiKey }),
		);
		expect((rest.recordings as Json[]).length).toBe(1);
		expect(rest.next_cursor).toBeNull();
		const seen = [...(first.recordings as Json[]), ...(rest.recordings as Json[])].map((r) => String(r.recording_id));
		expect(new Set(seen)).toEqual(new Set(ids));
		expect(seen).toHaveLength(3);
		const byMeeting = await json(await call("GET", "/api/v1/recordings?meeting_id=b", { token: apiKey }));
		expect((byMeeting.recordings as Json[]).map((r) => r.meeting_id)).toEqual(["b"]);
	});

	it("serves the source and artifacts with Range (206, Accept-Ranges, ETag), artifacts once they exist", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId, bytes } = await completeUpload(apiKey);
		const id = String((await createRecording(apiKey, uploadId)).recording_id);
		const source = await call("GET", `/api/v1/recordings/${id}/source`, {
			token: apiKey,
			headers: { Range: "bytes=1000-1999" },
		});
		expect(source.status).toBe(206);
		expect(source.headers.get("Content-Range")).toBe("bytes 1000-1999/2500");
		expect(new Uint8Array(await source.arrayBuffer())).toEqual(bytes.slice(1000, 2000));

		const path = `/api/v1/recordings/${id}/artifacts/audio.m4a`;
		expect((await call("GET", path, { token: apiKey })).status).toBe(404);
		const put = await putArtifact(apiKey, id, "audio.m4a", "0123456789abcdef");
		expect(put.status, await put.clone().text()).toBe(201);
		const ranged = await call("GET", path, { token: apiKey, headers: { Range: "bytes=4-7" } });
		expect(ranged.status).toBe(206);
		expect(ranged.headers.get("Accept-Ranges")).toBe("bytes");
		const etag = ranged.headers.get("ETag");
		expect(etag).toBeTruthy();
		expect(await ranged.text()).toBe("4567");
		const cached = await call("GET", path, { token: apiKey, headers: { "If-None-Match": etag ?? "" } });
		expect(cached.status).toBe(304);
		const rec = await getRecording(apiKey, id);
		expect((rec.artifacts as Json[]).map((a) => a.name)).toEqual(["audio.m4a"]);
		const tooFar = await call("GET", path, { token: apiKey, headers: { Range: "bytes=100-200" } });
		expect(tooFar.status).toBe(416);
	});

	it("refuses an artifact over RECORDINGS_ARTIFACT_MAX_BYTES with 413", async () => {
		const { apiKey, tenantId } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const id = String((await createRecording(apiKey, uploadId)).recording_id);
		expect((await putArtifact(apiKey, id, "big.bin", "x".repeat(65_536))).status).toBe(201);
		const res = await putArtifact(apiKey, id, "big.bin", "x".repeat(65_537));
		expect(res.status).toBe(413);
		expect(((await json(res)).error as Json).code).toBe("artifact_too_large");
		// The earlier 64 KiB copy is still the stored one.
		expect((await env.RECORDINGS.head(`recordings/${tenantId}/${id}/big.bin`))?.size).toBe(65_536);
	});

	it("answers 404 to another tenant for every route taking a recording id", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const { id: uploadId } = await completeUpload(a.apiKey);
		const id = String((await createRecording(a.apiKey, uploadId)).recording_id);
		await putArtifact(a.apiKey, id, "audio.m4a", "abc");
		for (const [method, path] of [
			["GET", `/api/v1/recordings/${id}`],
			["GET", `/api/v1/recordings/${id}/source`],
			["GET", `/api/v1/recordings/${id}/artifacts/audio.m4a`],
			["GET", `/api/v1/recordings/${id}/events?max_seconds=1`],
			["DELETE", `/api/v1/recordings/${id}`],
		] as const) {
			expect((await call(method, path, { token: b.apiKey })).status, `${method} ${path}`).toBe(404);
		}
		expect((await putArtifact(b.apiKey, id, "x.txt", "evil")).status).toBe(404);
		// B cannot use A's upload either.
		const stolen = { meeting_id: "m", upload_id: uploadId };
		expect((await call("POST", "/api/v1/recordings", { token: b.apiKey, body: stolen })).status).toBe(404);
		expect((await getRecording(a.apiKey, id)).recording_id).toBe(id);
	});

	it("deletes a recording: its unfinished jobs are cancelled and its artifacts removed", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const rec = await createRecording(apiKey, uploadId);
		const id = String(rec.recording_id);
		await putArtifact(apiKey, id, "audio.m4a", "abc");
		const jobIds = stage(rec, "video").job_ids as string[];
		expect((await call("DELETE", `/api/v1/recordings/${id}`, { token: apiKey })).status).toBe(204);
		expect((await call("GET", `/api/v1/recordings/${id}`, { token: apiKey })).status).toBe(404);
		for (const jobId of jobIds) {
			const job = await json(await call("GET", `/api/v1/jobs/${jobId}`, { token: apiKey }));
			expect(job.status).toBe("cancelled");
		}
		const listed = await env.RECORDINGS.list({ prefix: "recordings/" });
		expect(listed.objects.filter((o) => o.key.includes(id))).toEqual([]);
	});

	it("accepts recordings over the intake limit as queued and starts one when a place frees up", async () => {
		const { apiKey } = await createTenant();
		const recs: Json[] = [];
		for (const meeting of ["1", "2", "3", "4"]) {
			const { id } = await completeUpload(apiKey, 100);
			recs.push(await createRecording(apiKey, id, meeting));
		}
		expect(recs.map((r) => r.status)).toEqual(["processing", "processing", "processing", "queued"]);
		const queued = String(recs[3]?.recording_id);
		expect(stage(await getRecording(apiKey, queued), "audio")).toMatchObject({ status: "pending", job_ids: [] });
		await call("DELETE", `/api/v1/recordings/${String(recs[0]?.recording_id)}`, { token: apiKey });
		const started = await getRecording(apiKey, queued);
		expect(started.status).toBe("processing");
		expect(stage(started, "audio").status).toBe("running");
	});
});
