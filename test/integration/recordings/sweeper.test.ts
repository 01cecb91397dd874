import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import { MAX_REPAIRS, sweepStuckStages } from "../../../src/recordings/sweeper";
import { claimN, complete, completeUpload, createRecording, stage, waitForRecording } from "./recording-helpers";

type StageState = { status: string; error: string | null; repairs: number; job_ids: string; version: number };

/** A sweep as it would run once a stage has been quiet longer than RECORDINGS_STUCK_GRACE_SECONDS. */
function sweepLater() {
	return sweepStuckStages(env, Date.now() + (Number(env.RECORDINGS_STUCK_GRACE_SECONDS) + 1) * 1000);
}

async function stageRow(recordingId: string, name: string): Promise<StageState> {
	const row = await env.DB.prepare(
		"SELECT status, error, repairs, job_ids, version FROM recording_stages WHERE recording_id = ? AND stage = ?",
	)
		.bind(recordingId, name)
		.first<StageState>();
	if (!row) throw new Error(`no stage ${name}`);
	return row;
}

async function recordingStatus(id: string): Promise<string | undefined> {
	const row = await env.DB.prepare("SELECT status FROM recordings WHERE id = ?").bind(id).first<{ status: string }>();
	return row?.status;
}

/** The stage's unit job and its advance job vanish, as if never written or purged by retention. */
async function loseJobs(recordingId: string, name: string): Promise<string> {
	const unitJob = (JSON.parse((await stageRow(recordingId, name)).job_ids) as string[])[0] ?? "";
	const keys = [`rec:${recordingId}:${name}:0`, `rec:${recordingId}:${name}:0:advance`];
	const { results } = await env.DB.prepare("SELECT id FROM jobs WHERE dedupe_key IN (?, ?)")
		.bind(...keys)
		.all<{ id: string }>();
	for (const { id } of results) {
		await env.DB.batch([
			env.DB.prepare("DELETE FROM job_logs WHERE job_id = ?").bind(id),
			env.DB.prepare("DELETE FROM job_dependencies WHERE job_id = ?1 OR depends_on = ?1").bind(id),
		]);
	}
	for (const { id } of results) await env.DB.prepare("DELETE FROM jobs WHERE id = ?").bind(id).run();
	return unitJob;
}

async function newRecording(meeting: string) {
	const { apiKey } = await createTenant();
	const { id: uploadId } = await completeUpload(apiKey);
	const id = String((await createRecording(apiKey, uploadId, meeting)).recording_id);
	return { apiKey, id };
}

describe("sweeper of recording stages stuck running", () => {
	it("fails a stage whose job ended dead (retries spent), and with it the recording", async () => {
		const { apiKey, id } = await newRecording("m-dead");
		const [audio] = await claimN(apiKey, ["recording.audio"], 1);
		const res = await call("POST", `/api/v1/jobs/${audio?.job_id}/fail`, {
			token: apiKey,
			body: { worker_id: "w1", error: "ffmpeg exploded", retry: false },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const before = await stageRow(id, "audio");
		expect(before.status).toBe("running");

		const figures = await sweepLater();
		expect(figures.failed).toBeGreaterThanOrEqual(1);
		const after = await stageRow(id, "audio");
		expect(after).toMatchObject({ status: "failed", error: "ffmpeg exploded" });
		expect(after.version).toBeGreaterThan(before.version);
		expect(await recordingStatus(id)).toBe("failed");
		// The other stages' jobs are live: they are left alone.
		expect((await stageRow(id, "video")).status).toBe("running");
	});

	it("enqueues a lost job again (compare-and-set, counted), and the stage then completes normally", async () => {
		const { apiKey, id } = await newRecording("m-lost");
		const lostJob = await loseJobs(id, "transcript");
		const videoBefore = await stageRow(id, "video");

		const figures = await sweepLater();
		expect(figures.reenqueued).toBeGreaterThanOrEqual(1);
		const repaired = await stageRow(id, "transcript");
		expect(repaired).toMatchObject({ status: "running", repairs: 1 });
		const ids = JSON.parse(repaired.job_ids) as string[];
		expect(ids).toHaveLength(2);
		expect(ids[1]).not.toBe(lostJob);
		// A healthy stage (live jobs) is not touched: same version, no repair.
		expect(await stageRow(id, "video")).toMatchObject({ version: videoBefore.version, repairs: 0 });
		// A second sweep finds the new job live: nothing more is enqueued.
		await sweepLater();
		expect((await stageRow(id, "transcript")).repairs).toBe(1);

		const [transcript] = await claimN(apiKey, ["recording.transcript"], 1);
		expect(transcript?.job_id).toBe(ids[1]);
		expect(transcript?.payload).toMatchObject({ recording_id: id, stage: "transcript", unit: 0 });
		await complete(apiKey, String(transcript?.job_id));
		await waitForRecording(apiKey, id, (r) => stage(r, "transcript").status === "completed");
	});

	it("advances a unit whose job completed but whose advance job was cancelled", async () => {
		const { apiKey, id } = await newRecording("m-unadvanced");
		await env.DB.prepare("UPDATE jobs SET status = 'cancelled', completed_at = ? WHERE dedupe_key = ?")
			.bind(Date.now(), `rec:${id}:audio:0:advance`)
			.run();
		const [audio] = await claimN(apiKey, ["recording.audio"], 1);
		await complete(apiKey, String(audio?.job_id));
		await sleep(500);
		expect((await stageRow(id, "audio")).status).toBe("running");

		const figures = await sweepLater();
		expect(figures.advanced).toBeGreaterThanOrEqual(1);
		expect((await stageRow(id, "audio")).status).toBe("completed");
	});

	it(`fails a stage whose jobs were lost again after ${MAX_REPAIRS} repairs`, async () => {
		const { id } = await newRecording("m-lost-again");
		await env.DB.prepare("UPDATE recording_stages SET repairs = ? WHERE recording_id = ? AND stage = 'audio'")
			.bind(MAX_REPAIRS, id)
			.run();
		await loseJobs(id, "audio");
		await sweepLater();
		const audio = await stageRow(id, "audio");
		expect(audio.status).toBe("failed");
		expect(audio.error).toContain(`lost after ${MAX_REPAIRS} repairs`);
		expect(await recordingStatus(id)).toBe("failed");
	});

	it("restarts a stage whose jobs were never recorded (crash between its start and its jobs)", async () => {
		const { id } = await newRecording("m-restart");
		await env.DB.prepare("UPDATE recording_stages SET job_ids = '[]' WHERE recording_id = ? AND stage = 'audio'")
			.bind(id)
			.run();
		const figures = await sweepLater();
		expect(figures.restarted).toBeGreaterThanOrEqual(1);
		// The live job (same dedupe key) is found again, not doubled.
		expect(JSON.parse((await stageRow(id, "audio")).job_ids)).toHaveLength(1);
	});
});
