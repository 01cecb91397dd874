import { expect } from "vitest";
import { call, json, sleep } from "../helpers";
import type { Json } from "../helpers";
import { createUpload, patch, randomBytes } from "../uploads/tus-helpers";

export const STAGE_TYPES = [
	"recording.audio",
	"recording.video",
	"recording.transcript",
	"recording.highlights",
	"recording.summary",
];
export type Claimed = { job_id: string; type: string; payload: Json };

/** A complete upload of `size` random bytes (one PATCH); returns its id and bytes. */
export async function completeUpload(token: string, size = 2_500) {
	const bytes = randomBytes(size);
	const upload = await createUpload(token, size);
	const res = await patch(token, upload.path, 0, bytes);
	expect(res.status, await res.clone().text()).toBe(204);
	return { id: upload.id, path: upload.path, bytes };
}

export async function createRecording(token: string, uploadId: string, meetingId = "m-1"): Promise<Json> {
	const res = await call("POST", "/api/v1/recordings", { token, body: { meeting_id: meetingId, upload_id: uploadId } });
	expect(res.status, await res.clone().text()).toBe(202);
	return json(res);
}

export async function getRecording(token: string, id: string): Promise<Json> {
	const res = await call("GET", `/api/v1/recordings/${id}`, { token });
	expect(res.status).toBe(200);
	return json(res);
}

export function stage(recording: Json, name: string): Json {
	const stages = recording.stages as Json[];
	const found = stages.find((s) => s.name === name);
	if (!found) throw new Error(`no stage ${name}`);
	return found;
}

/** Claims one job of `types` through the pull API (null when none is ready). */
export async function claim(token: string, types: string[], worker = "w1"): Promise<Claimed | null> {
	const res = await call("POST", "/api/v1/jobs/claim", { token, body: { worker_id: worker, types } });
	if (res.status === 204) return null;
	expect(res.status, await res.clone().text()).toBe(200);
	const body = await json(res);
	return { job_id: String(body.job_id), type: String(body.type), payload: body.payload as Json };
}

/** Claims until `n` jobs of `types` were claimed (dependent jobs appear once the queue ran). */
export async function claimN(token: string, types: string[], n: number, timeoutMs = 10_000): Promise<Claimed[]> {
	const claimed: Claimed[] = [];
	const until = Date.now() + timeoutMs;
	while (claimed.length < n) {
		const job = await claim(token, types);
		if (job) claimed.push(job);
		else if (Date.now() > until) throw new Error(`claimed ${claimed.length} of ${n} ${types.join(",")}`);
		else await sleep(100);
	}
	return claimed;
}

export async function complete(token: string, jobId: string, worker = "w1"): Promise<void> {
	const res = await call("POST", `/api/v1/jobs/${jobId}/complete`, { token, body: { worker_id: worker } });
	expect(res.status, await res.clone().text()).toBe(200);
}

export async function putArtifact(token: string, recordingId: string, name: string, body: string): Promise<Response> {
	return call("PUT", `/api/v1/recordings/${recordingId}/artifacts/${name}`, {
		token,
		body,
		headers: { "Content-Type": "text/plain" },
	});
}

/** Polls a recording until `done` holds (the jobs queue runs the advance jobs in the background). */
export async function waitForRecording(token: string, id: string, done: (r: Json) => boolean, timeoutMs = 15_000) {
	const until = Date.now() + timeoutMs;
	for (;;) {
		const rec = await getRecording(token, id);
		if (done(rec)) return rec;
		if (Date.now() > until) throw new Error(`recording ${id} stuck: ${JSON.stringify(rec)}`);
		await sleep(100);
	}
}
