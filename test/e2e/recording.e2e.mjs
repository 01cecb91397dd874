// `npm run test:e2e`: the recording pipeline end to end. A ~60 s test meeting (ffmpeg's test
// pattern, a scene cut at 30 s, espeak-ng speaking numbers) is uploaded with tus-js-client in
// several chunks; a recording is created; the reference worker (scripts/media-worker.mjs, run in
// this process) does the real media work; the recording must become ready with every stage
// completed and valid artifacts. Skipped, with the reason, when a media tool is missing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import * as tus from "tus-js-client";
import { createTenant, startLocalWorker } from "./local-worker.mjs";
import { ALL_TYPES, runWorker } from "../../scripts/media-worker.mjs";

const TOOLS = [
	"ffmpeg",
	"ffprobe",
	"espeak-ng",
	(process.env.TRANSCRIBE_CMD ?? "pocketsphinx_continuous").split(" ")[0],
];
const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
const skip =
	missing.length > 0
		? `missing ${missing.join(", ")} (apt-get install ffmpeg espeak-ng pocketsphinx pocketsphinx-en-us)`
		: false;
if (skip) console.log(`# recording e2e skipped: ${skip}`);

const DURATION = 60;
const WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
/** At least four PATCHes, whatever the encoder made of the meeting. */
const chunkSize = () => Math.max(64 * 1024, Math.ceil(size / 4));
const dir = mkdtempSync(path.join(tmpdir(), "rec-e2e-"));
const meeting = path.join(dir, "meeting.mp4");
let worker;
let base;
let apiKey;
let size;

/** Speech at 5 s and at 35 s, silence between: loudness peaks for the highlights. */
function generateMeeting() {
	const speech = path.join(dir, "speech.wav");
	sh("espeak-ng", ["-s", "120", "-w", speech, WORDS.join(". ")]);
	const video = `testsrc=size=320x240:rate=10:duration=${DURATION / 2}`;
	const bars = `smptebars=size=320x240:rate=10:duration=${DURATION / 2}`;
	sh("ffmpeg", [
		"-hide_banner",
		"-loglevel",
		"error",
		"-y",
		"-f",
		"lavfi",
		"-i",
		video,
		"-f",
		"lavfi",
		"-i",
		bars,
		"-i",
		speech,
		"-i",
		speech,
		"-filter_complex",
		"[0:v][1:v]concat=n=2:v=1[v];[2:a]adelay=5000:all=1[a1];[3:a]adelay=35000:all=1[a2];" +
			`[a1][a2]amix=inputs=2:normalize=0,apad,atrim=0:${DURATION}[a]`,
		"-map",
		"[v]",
		"-map",
		"[a]",
		"-c:v",
		"libx264",
		"-preset",
		"ultrafast",
		"-c:a",
		"aac",
		"-t",
		String(DURATION),
		meeting,
	]);
	return statSync(meeting).size;
}

function sh(cmd, args) {
	const r = spawnSync(cmd, args, { encoding: "utf8" });
	assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
	return r.stdout;
}

function probe(file, entries) {
	return sh("ffprobe", ["-v", "error", "-show_entries", entries, "-of", "csv=p=0", file]).trim();
}

before(async () => {
	if (skip) return;
	size = generateMeeting();
	// Three segments of the source, so the video is transcoded per segment and merged.
	({ worker, base } = await startLocalWorker({ RECORDINGS_SEGMENT_BYTES: Math.ceil(size / 3) }));
	apiKey = await createTenant(base, "recording-e2e");
});

after(async () => {
	await worker?.dispose();
	rmSync(dir, { recursive: true, force: true });
});

function upload(bytes) {
	let chunks = 0;
	return new Promise((resolve, reject) => {
		const u = new tus.Upload(bytes, {
			endpoint: `${base}/api/v1/uploads`,
			chunkSize: chunkSize(),
			headers: { Authorization: `Bearer ${apiKey}` },
			metadata: { filename: "meeting.mp4", filetype: "video/mp4" },
			onChunkComplete: () => chunks++,
			onSuccess: () => resolve({ id: u.url.split("/").pop(), chunks }),
			onError: reject,
		});
		u.start();
	});
}

async function api(method, p, body) {
	const res = await fetch(`${base}${p}`, {
		method,
		headers: { Authorization: `Bearer ${apiKey}`, ...(body ? { "Content-Type": "application/json" } : {}) },
		body: body ? JSON.stringify(body) : undefined,
	});
	return res;
}

async function download(id, name) {
	const res = await api("GET", `/api/v1/recordings/${id}/artifacts/${name}`);
	assert.equal(res.status, 200, `${name}: ${res.status}`);
	const file = path.join(dir, `out-${name}`);
	writeFileSync(file, Buffer.from(await res.arrayBuffer()));
	return file;
}

void test("a test meeting goes through every stage with the reference worker", { skip, timeout: 170_000 }, async () => {
	const { id: uploadId, chunks } = await upload(readFileSync(meeting));
	assert.ok(chunks >= 3, `uploaded in ${chunks} chunks`);
	const created = await api("POST", "/api/v1/recordings", { meeting_id: "e2e-meeting", upload_id: uploadId });
	assert.equal(created.status, 202, await created.clone().text());
	const { recording_id: id, segments } = await created.json();
	assert.equal(segments, 3);

	const controller = new AbortController();
	const logs = [];
	const workers = ["a", "b"].map((w) =>
		runWorker({
			base,
			apiKey,
			types: ALL_TYPES,
			workerId: `e2e-${w}`,
			signal: controller.signal,
			log: (l) => logs.push(l),
			// Outputs over 200 kB go by tus (in 256 KiB chunks) and are attached; smaller ones by PUT.
			tusThresholdBytes: 200_000,
			tusChunkBytes: 256 * 1024,
		}),
	);
	let rec;
	let stats = [];
	const until = Date.now() + 150_000;
	try {
		do {
			await new Promise((r) => setTimeout(r, 1000));
			rec = await (await api("GET", `/api/v1/recordings/${id}`)).json();
		} while (rec.status === "processing" && Date.now() < until);
	} finally {
		controller.abort();
		stats = await Promise.all(workers);
	}
	assert.equal(rec.status, "ready", `${JSON.stringify(rec.stages)}\n${logs.join("\n")}`);
	for (const s of rec.stages) assert.equal(s.status, "completed", s.name);
	const viaTus = stats.flatMap((s) => s.sent.tus);
	// The renditions are over the 200 kB threshold (audio of mostly silence is not: it goes by PUT).
	assert.ok(viaTus.includes("video_720p.mp4"), `large outputs went by tus: ${viaTus.join(", ")}`);
	assert.ok(
		stats.some((s) => s.sent.put.includes("transcript.txt")),
		"small outputs went by PUT",
	);

	const audio = await download(id, "audio.m4a");
	assert.equal(probe(audio, "stream=codec_type"), "audio");
	assert.ok(Math.abs(Number(probe(audio, "format=duration")) - DURATION) <= 1, "audio duration ±1 s");
	for (const [name, height] of [
		["video_720p.mp4", 720],
		["video_360p.mp4", 360],
	]) {
		const file = await download(id, name);
		assert.equal(probe(file, "stream=height").split("\n")[0], String(height));
		assert.ok(Math.abs(Number(probe(file, "format=duration")) - DURATION) <= 1.5, `${name} duration`);
	}
	const transcript = readFileSync(await download(id, "transcript.txt"), "utf8").toLowerCase();
	assert.ok(
		WORDS.some((w) => new RegExp(`\\b${w}\\b`).test(transcript)),
		`a spoken word in: ${transcript}`,
	);
	const highlights = JSON.parse(readFileSync(await download(id, "highlights.json"), "utf8"));
	assert.ok(highlights.highlights.length >= 1, "at least one highlight");
	assert.ok(
		highlights.scene_changes.some((t) => Math.abs(t - DURATION / 2) < 1),
		"the scene cut at 30 s",
	);
	const summary = await download(id, "summary.mp4");
	assert.ok(Number(probe(summary, "format=duration")) > 1, "a summary clip");

	const ranged = await api("GET", `/api/v1/recordings/${id}/artifacts/audio.m4a`);
	const partial = await fetch(ranged.url, { headers: { Authorization: `Bearer ${apiKey}`, Range: "bytes=0-99" } });
	assert.equal(partial.status, 206);
	assert.equal(partial.headers.get("accept-ranges"), "bytes");
	assert.equal((await partial.arrayBuffer()).byteLength, 100);
	await ranged.body?.cancel();
});
