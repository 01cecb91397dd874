import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import { createUpload, MAX_PATCH, patch, randomBytes, sha256, tus, uploadInChunks } from "../uploads/tus-helpers";
import { completeUpload, createRecording, putArtifact } from "./recording-helpers";

const MIB = 1024 * 1024;

function attach(token: string, recordingId: string, name: string, body: unknown): Promise<Response> {
	return call("POST", `/api/v1/recordings/${recordingId}/artifacts/${name}`, { token, body });
}

async function newRecording() {
	const { apiKey, tenantId } = await createTenant();
	const { id: uploadId } = await completeUpload(apiKey);
	const id = String((await createRecording(apiKey, uploadId)).recording_id);
	return { apiKey, tenantId, id };
}

/** A complete tus upload of `bytes` (PATCHes of at most the platform's limit). */
async function uploaded(token: string, bytes: Uint8Array<ArrayBuffer>, filetype?: string) {
	const metadata = filetype ? `filename ${btoa("out.mp4")},filetype ${btoa(filetype)}` : undefined;
	const upload = await createUpload(token, bytes.length, metadata);
	await uploadInChunks(token, upload.path, bytes, MAX_PATCH);
	return upload;
}

describe("large artifacts: a tus upload attached to a recording", () => {
	it("attaches a complete upload without copying it; the artifact streams byte-identical, the upload is gone", async () => {
		const { apiKey, tenantId, id } = await newRecording();
		const bytes = randomBytes(7 * MIB); // two R2 parts; far over the 64 KiB PUT limit of the tests
		const tooBig = await call("PUT", `/api/v1/recordings/${id}/artifacts/video_720p.mp4`, {
			token: apiKey,
			body: bytes,
		});
		expect(tooBig.status).toBe(413);
		const upload = await uploaded(apiKey, bytes, "video/mp4");

		const res = await attach(apiKey, id, "video_720p.mp4", { upload_id: upload.id });
		expect(res.status, await res.clone().text()).toBe(201);
		expect(await json(res)).toMatchObject({ name: "video_720p.mp4", size: bytes.length, content_type: "video/mp4" });
		// No copy: the artifact's object is the upload's, and nothing was written under the recording.
		const row = await env.DB.prepare("SELECT r2_key FROM recording_artifacts WHERE recording_id = ? AND name = ?")
			.bind(id, "video_720p.mp4")
			.first<{ r2_key: string }>();
		expect(row?.r2_key).toBe(`uploads/${tenantId}/${upload.id}`);
		expect((await env.RECORDINGS.list({ prefix: `recordings/${tenantId}/${id}/` })).objects).toEqual([]);

		const whole = await call("GET", `/api/v1/recordings/${id}/artifacts/video_720p.mp4`, { token: apiKey });
		expect(whole.status).toBe(200);
		expect(await sha256(await whole.arrayBuffer())).toBe(await sha256(bytes));
		const range = await call("GET", `/api/v1/recordings/${id}/artifacts/video_720p.mp4`, {
			token: apiKey,
			headers: { Range: `bytes=${5 * MIB - 10}-${5 * MIB + 9}` },
		});
		expect(range.status).toBe(206);
		expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(5 * MIB - 10, 5 * MIB + 10));
		// The upload is the artifact's now: as a tus upload it is gone, and cannot be attached twice.
		expect((await tus("HEAD", upload.path, apiKey)).status).toBe(404);
		expect((await attach(apiKey, id, "again.mp4", { upload_id: upload.id })).status).toBe(404);
		const status = await env.DB.prepare("SELECT status FROM uploads WHERE id = ?").bind(upload.id).first();
		expect(status).toEqual({ status: "terminated" });

		// Deleting the recording removes the object with the artifacts.
		expect((await call("DELETE", `/api/v1/recordings/${id}`, { token: apiKey })).status).toBe(204);
		expect(await env.RECORDINGS.head(`uploads/${tenantId}/${upload.id}`)).toBeNull();
	}, 60_000);

	it("answers 404 for another tenant's upload or an unknown one, 409 for an unfinished one", async () => {
		const { apiKey, id } = await newRecording();
		const other = await createTenant();
		const theirs = await uploaded(other.apiKey, randomBytes(100));
		const foreign = await attach(apiKey, id, "a.bin", { upload_id: theirs.id });
		expect(foreign.status).toBe(404);
		expect((await json(foreign)).error).toMatchObject({ code: "upload_not_found" });
		// Their upload is untouched.
		expect((await tus("HEAD", theirs.path, other.apiKey)).status).toBe(200);
		// Another tenant cannot attach to this tenant's recording either.
		expect((await attach(other.apiKey, id, "a.bin", { upload_id: theirs.id })).status).toBe(404);

		const unknown = await attach(apiKey, id, "a.bin", { upload_id: "upl_000000000000000000000000" });
		expect(unknown.status).toBe(404);
		const partial = await createUpload(apiKey, 200);
		expect((await patch(apiKey, partial.path, 0, randomBytes(100))).status).toBe(204);
		const unfinished = await attach(apiKey, id, "a.bin", { upload_id: partial.id });
		expect(unfinished.status).toBe(409);
		expect((await json(unfinished)).error).toMatchObject({ code: "upload_incomplete" });
		expect((await attach(apiKey, id, "a.bin", { uploadId: partial.id })).status).toBe(400);
		expect((await call("GET", `/api/v1/recordings/${id}/artifacts/a.bin`, { token: apiKey })).status).toBe(404);
	});

	it("replaces a PUT artifact of the same name and deletes the object it replaced", async () => {
		const { apiKey, tenantId, id } = await newRecording();
		expect((await putArtifact(apiKey, id, "summary.mp4", "small")).status).toBe(201);
		const putKey = `recordings/${tenantId}/${id}/summary.mp4`;
		expect(await env.RECORDINGS.head(putKey)).not.toBeNull();
		const bytes = randomBytes(1000);
		const upload = await uploaded(apiKey, bytes);
		expect((await attach(apiKey, id, "summary.mp4", { upload_id: upload.id, content_type: "video/mp4" })).status).toBe(
			201,
		);
		expect(await env.RECORDINGS.head(putKey)).toBeNull();
		const res = await call("GET", `/api/v1/recordings/${id}/artifacts/summary.mp4`, { token: apiKey });
		expect(res.headers.get("Content-Type")).toBe("video/mp4");
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
	});
});
