import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { advanceRecording } from "../../../src/recordings/pipeline";
import type { PipelineHooks } from "../../../src/recordings/pipeline";
import {
	claim,
	claimN,
	complete,
	completeUpload,
	createRecording,
	getRecording,
	putArtifact,
	stage,
	waitForRecording,
} from "./recording-helpers";

/** Counts hook calls instead of publishing (the webhooks engine plugs in here after merge). */
function countingHooks() {
	const calls = { stages: [] as string[], ready: 0 };
	const hooks: PipelineHooks = {
		onStageCompleted: async (_env, _rec, s) => {
			calls.stages.push(s);
		},
		onRecordingReady: async () => {
			calls.ready++;
		},
	};
	return { calls, hooks };
}

describe("recording pipeline", () => {
	it("runs audio, video per segment then merged, transcript, then highlights, then summary, to ready", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const id = String((await createRecording(apiKey, uploadId)).recording_id);

		const [audio] = await claimN(apiKey, ["recording.audio"], 1);
		expect(audio?.payload).toMatchObject({
			recording_id: id,
			stage: "audio",
			source_url: `/api/v1/recordings/${id}/source`,
		});
		await putArtifact(apiKey, id, "audio.m4a", "audio");
		await complete(apiKey, String(audio?.job_id));
		// The audio can be fetched while the video is still processing.
		await waitForRecording(apiKey, id, (r) => stage(r, "audio").status === "completed");
		expect((await call("GET", `/api/v1/recordings/${id}/artifacts/audio.m4a`, { token: apiKey })).status).toBe(200);

		const segments = await claimN(apiKey, ["recording.video"], 3);
		expect(segments.map((s) => Number((s.payload.segment as Json).index)).sort((a, b) => a - b)).toEqual([0, 1, 2]);
		expect(segments.map((s) => (s.payload.segment as Json).length)).toEqual(expect.arrayContaining([833, 834]));
		await complete(apiKey, String(segments[0]?.job_id));
		const partly = await waitForRecording(apiKey, id, (r) => stage(r, "video").segments_done === 1);
		expect(stage(partly, "video").progress).toBeCloseTo(1 / 3);
		expect(stage(partly, "video").status).toBe("running");
		for (const s of segments.slice(1)) await complete(apiKey, s.job_id);
		const [merge] = await claimN(apiKey, ["recording.video"], 1);
		expect(merge?.payload).toMatchObject({ merge: true, unit: 3, segment: null });
		expect(await claim(apiKey, ["recording.highlights"])).toBeNull();
		await complete(apiKey, String(merge?.job_id));

		const [transcript] = await claimN(apiKey, ["recording.transcript"], 1);
		await complete(apiKey, String(transcript?.job_id));
		const [highlights] = await claimN(apiKey, ["recording.highlights"], 1);
		await complete(apiKey, String(highlights?.job_id));
		const [summary] = await claimN(apiKey, ["recording.summary"], 1);
		await complete(apiKey, String(summary?.job_id));

		const ready = await waitForRecording(apiKey, id, (r) => r.status === "ready");
		for (const s of ready.stages as Json[])
			expect(s, String(s.name)).toMatchObject({ status: "completed", progress: 1 });
		expect(ready.finished_at).not.toBeNull();
		// Each stage started exactly once: no second job of any stage type is waiting.
		expect(
			await claim(apiKey, ["recording.audio", "recording.video", "recording.highlights", "recording.summary"]),
		).toBeNull();

		const events = await call("GET", `/api/v1/recordings/${id}/events?max_seconds=2`, { token: apiKey });
		expect(events.headers.get("Content-Type")).toContain("text/event-stream");
		const text = await events.text();
		expect(text.match(/event: recording\.stage\.completed/g)?.length).toBe(5);
		expect(text).toContain("event: recording.ready");
	});

	it("starts the dependent stage exactly once when its three predecessors complete at the same time", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const id = String((await createRecording(apiKey, uploadId)).recording_id);
		const { calls, hooks } = countingHooks();
		// The video's three segments, then its merge job exists (unit 3).
		for (const unit of [0, 1, 2]) await advanceRecording(env, { recording_id: id, stage: "video", unit }, hooks);
		expect(stage(await getRecording(apiKey, id), "video").job_ids).toHaveLength(4);

		const results = await Promise.all([
			advanceRecording(env, { recording_id: id, stage: "audio", unit: 0 }, hooks),
			advanceRecording(env, { recording_id: id, stage: "transcript", unit: 0 }, hooks),
			advanceRecording(env, { recording_id: id, stage: "video", unit: 3 }, hooks),
			// A repeated report of the same unit (a retried advance job) counts once.
			advanceRecording(env, { recording_id: id, stage: "audio", unit: 0 }, hooks),
		]);
		expect(results.flatMap((r) => r.started)).toEqual(["highlights"]);
		expect(new Set(calls.stages)).toEqual(new Set(["audio", "transcript", "video"]));
		expect(calls.stages).toHaveLength(3);
		const rec = await getRecording(apiKey, id);
		expect(stage(rec, "highlights")).toMatchObject({ status: "running" });
		expect(stage(rec, "highlights").job_ids).toHaveLength(1);
		expect(stage(rec, "summary").status).toBe("pending");

		await advanceRecording(env, { recording_id: id, stage: "highlights", unit: 0 }, hooks);
		const last = await Promise.all([
			advanceRecording(env, { recording_id: id, stage: "summary", unit: 0 }, hooks),
			advanceRecording(env, { recording_id: id, stage: "summary", unit: 0 }, hooks),
		]);
		expect(last.filter((r) => r.ready)).toHaveLength(1);
		expect(calls.ready).toBe(1);
		expect((await getRecording(apiKey, id)).status).toBe("ready");
	});

	it("shows a stage whose job died as failed, with its error and attempts, and fails the recording", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey);
		const id = String((await createRecording(apiKey, uploadId)).recording_id);
		const [job] = await claimN(apiKey, ["recording.transcript"], 1);
		const res = await call("POST", `/api/v1/jobs/${String(job?.job_id)}/fail`, {
			token: apiKey,
			body: { worker_id: "w1", error: "pocketsphinx exited 1", retry: false },
		});
		expect(res.status).toBe(200);
		const rec = await getRecording(apiKey, id);
		expect(rec.status).toBe("failed");
		expect(stage(rec, "transcript")).toMatchObject({ status: "failed", error: "pocketsphinx exited 1", attempts: 1 });
		expect(stage(rec, "audio").status).toBe("running");
		const text = await (await call("GET", `/api/v1/recordings/${id}/events`, { token: apiKey })).text();
		expect(text).toContain("event: recording.failed");
		expect((await json(await call("GET", `/api/v1/recordings/${id}`, { token: apiKey }))).status).toBe("failed");
	});
});
