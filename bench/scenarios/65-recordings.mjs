// Recordings (issue 13, "Measured"), three ratios in one run:
// - uploads_throughput_ratio: tus PATCHes through the Worker into R2 vs a plain R2 put of the same
//   bytes through the same local R2 (Miniflare's binding from Node). Goal ≥ 0.7.
// - uploads_resume_resent_bytes: tus-js-client aborted in the middle of a chunk, resumed by a new
//   client from the server's offset: bytes the two clients sent beyond the file's size. Goal ≤ one chunk.
// - recordings_pipeline_overhead: a generated 60 s meeting through the whole pipeline (upload
//   excluded: from POST /recordings to ready, reference worker with 2 loops) vs the same ffmpeg
//   commands (the worker's own stage functions on local files, same 2 lanes, same order). Goal ≤ 0.2.
// Also reported: workerd's RSS growth while uploading (streamed, so it should stay flat).
// Needs ffmpeg, espeak-ng and pocketsphinx for the pipeline part (skipped with the reason otherwise).
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tus from "tus-js-client";
import { ALL_TYPES, runWorker } from "../../scripts/media-worker.mjs";
import { STAGES } from "../../scripts/media-stages.mjs";

export const title = "Recordings: tus upload vs plain R2 put, resume cost, pipeline overhead vs bare ffmpeg";
// The generated meeting is ~0.5 MB: three segments of it.
export const vars = { RECORDINGS_SEGMENT_BYTES: "200000", UPLOAD_MAX_ACTIVE_PER_TENANT: "50" };

const MIB = 1024 * 1024;

export async function run({ url, admin, platform, log }) {
	const tenant = await (await admin("POST", "/tenants", { name: "bench-recordings" })).json();
	const auth = { Authorization: `Bearer ${tenant.api_key}` };
	const bucket = await platform.mf.getR2Bucket("RECORDINGS");
	const mb = Number(process.env.BENCH_UPLOAD_MB ?? 256);
	const bytes = randomBytes(mb * MIB);

	// 1. Throughput: 64 MiB PATCHes vs one put.
	const rssBefore = workerdRssMb();
	const t0 = performance.now();
	const created = await fetch(`${url}/api/v1/uploads`, {
		method: "POST",
		headers: { ...auth, "Tus-Resumable": "1.0.0", "Upload-Length": String(bytes.length) },
	});
	const location = created.headers.get("location");
	let peakRss = rssBefore;
	for (let offset = 0; offset < bytes.length; offset += 64 * MIB) {
		const res = await fetch(location, {
			method: "PATCH",
			headers: {
				...auth,
				"Tus-Resumable": "1.0.0",
				"Upload-Offset": String(offset),
				"Content-Type": "application/offset+octet-stream",
			},
			body: bytes.subarray(offset, offset + 64 * MIB),
		});
		if (res.status !== 204) throw new Error(`PATCH ${res.status} ${await res.text()}`);
		peakRss = Math.max(peakRss, workerdRssMb());
	}
	const workerSeconds = (performance.now() - t0) / 1000;
	const t1 = performance.now();
	await bucket.put("bench/plain-put", bytes);
	const plainSeconds = (performance.now() - t1) / 1000;

	// 2. Resume: abort halfway through the 4th of 8 MiB chunks, resume with a new client.
	const chunk = 8 * MIB;
	const resumeBytes = bytes.subarray(0, 48 * MIB);
	const storage = new Map();
	const urlStorage = {
		findAllUploads: async () => [...storage.values()],
		findUploadsByFingerprint: async (fp) => [...storage.values()].filter((u) => u.fingerprint === fp),
		removeUpload: async (key) => void storage.delete(key),
		addUpload: async (fp, upload) => {
			const key = `k${storage.size}`;
			storage.set(key, { ...upload, fingerprint: fp, urlStorageKey: key });
			return key;
		},
	};
	const opts = { endpoint: `${url}/api/v1/uploads`, chunkSize: chunk, headers: auth, urlStorage, retryDelays: [0] };
	let firstSent = 0;
	await new Promise((resolve, reject) => {
		const first = new tus.Upload(resumeBytes, {
			...opts,
			storeFingerprintForResuming: true,
			onError: reject,
			onProgress: (sent) => {
				firstSent = sent;
				if (sent >= 3.5 * chunk) void first.abort(false).then(resolve);
			},
		});
		first.start();
	});
	let resumedFrom = null;
	await new Promise((resolve, reject) => {
		const second = new tus.Upload(resumeBytes, {
			...opts,
			onProgress: (sent) => (resumedFrom ??= sent),
			onSuccess: resolve,
			onError: reject,
		});
		void second.findPreviousUploads().then((previous) => {
			second.resumeFromPreviousUpload(previous[0]);
			second.start();
		});
	});
	const resent = firstSent + (resumeBytes.length - (resumedFrom ?? 0)) - resumeBytes.length;

	const figures = {
		upload_mb: mb,
		worker_upload_mb_per_s: round(mb / workerSeconds),
		plain_r2_put_mb_per_s: round(mb / plainSeconds),
		uploads_throughput_ratio: round(plainSeconds / workerSeconds, 3),
		uploads_resume_chunk_bytes: chunk,
		uploads_resume_resent_bytes: resent,
		workerd_rss_growth_mb: rssBefore === null ? null : round(peakRss - rssBefore),
		...(await pipelineFigures(url, tenant.api_key, auth, log)),
	};
	log(JSON.stringify(figures, null, 2));
	return figures;
}

async function pipelineFigures(url, apiKey, auth, log) {
	const missing = ["ffmpeg", "ffprobe", "espeak-ng", "pocketsphinx_continuous"].filter(
		(t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0,
	);
	if (missing.length > 0) return { recordings_pipeline_overhead: null, note: `skipped: missing ${missing.join(", ")}` };
	const dir = await mkdtemp(path.join(tmpdir(), "bench-rec-"));
	try {
		const meeting = generateMeeting(dir);
		const source = await readFile(meeting);
		const up = await fetch(`${url}/api/v1/uploads`, {
			method: "POST",
			headers: {
				...auth,
				"Tus-Resumable": "1.0.0",
				"Upload-Length": String(source.length),
				"Content-Type": "application/offset+octet-stream",
			},
			body: source,
		});
		const uploadId = up.headers.get("location").split("/").pop();
		const t0 = performance.now();
		const res = await fetch(`${url}/api/v1/recordings`, {
			method: "POST",
			headers: { ...auth, "Content-Type": "application/json" },
			body: JSON.stringify({ meeting_id: "bench", upload_id: uploadId }),
		});
		const { recording_id: id, segments } = await res.json();
		const controller = new AbortController();
		const loops = ["a", "b"].map((w) =>
			runWorker({
				base: url,
				apiKey,
				types: ALL_TYPES,
				workerId: `bench-${w}`,
				signal: controller.signal,
				log: () => {},
			}),
		);
		let status = "processing";
		while (status === "processing" && performance.now() - t0 < 600_000) {
			await new Promise((r) => setTimeout(r, 250));
			status = (await (await fetch(`${url}/api/v1/recordings/${id}`, { headers: auth })).json()).status;
		}
		const pipelineSeconds = (performance.now() - t0) / 1000;
		controller.abort();
		await Promise.all(loops);
		const directSeconds = await runDirect(meeting, dir, segments);
		log(`pipeline ${pipelineSeconds.toFixed(1)} s (${status}), direct ffmpeg ${directSeconds.toFixed(1)} s`);
		return {
			recordings_status: status,
			recordings_pipeline_seconds: round(pipelineSeconds),
			recordings_direct_seconds: round(directSeconds),
			recordings_pipeline_overhead: round(pipelineSeconds / directSeconds - 1, 3),
		};
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}

/** The worker's stage functions on local files (no platform): the same ffmpeg commands, 2 lanes. */
async function runDirect(meeting, dir, segments) {
	const out = path.join(dir, "direct");
	await mkdir(out, { recursive: true });
	const api = {
		url: (p) => p,
		get: async (p) => {
			const data = await readFile(p);
			return { json: async () => JSON.parse(data.toString("utf8")), arrayBuffer: async () => data };
		},
		putArtifact: async (_id, name, file) => (await copyFile(file, path.join(out, name)), name),
	};
	const payload = { recording_id: "direct", source_url: meeting, artifacts_url: out, segments, merge: false };
	const unit =
		(stage, extra = {}) =>
		async () => {
			const work = await mkdtemp(path.join(dir, `${stage}-`));
			await STAGES[stage]({ job: { payload: { ...payload, ...extra } }, api, dir: work, progress: async () => {} });
		};
	const t0 = performance.now();
	const roots = [
		unit("audio"),
		...Array.from({ length: segments }, (_, index) => unit("video", { segment: { index, count: segments } })),
		unit("transcript"),
	];
	await Promise.all(
		[0, 1].map(async () => {
			for (let job = roots.shift(); job; job = roots.shift()) await job();
		}),
	);
	await unit("video", { merge: true })();
	await unit("highlights")();
	await unit("summary")();
	return (performance.now() - t0) / 1000;
}

function generateMeeting(dir) {
	const speech = path.join(dir, "speech.wav");
	const meeting = path.join(dir, "meeting.mp4");
	execFileSync("espeak-ng", ["-s", "120", "-w", speech, "one. two. three. four. five. six. seven. eight. nine. ten"]);
	execFileSync("ffmpeg", [
		"-hide_banner",
		"-loglevel",
		"error",
		"-y",
		"-f",
		"lavfi",
		"-i",
		"testsrc=size=320x240:rate=10:duration=30",
		"-f",
		"lavfi",
		"-i",
		"smptebars=size=320x240:rate=10:duration=30",
		"-i",
		speech,
		"-filter_complex",
		"[0:v][1:v]concat=n=2:v=1[v];[2:a]adelay=5000:all=1,apad,atrim=0:60[a]",
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
		"60",
		meeting,
	]);
	return meeting;
}

/** Summed RSS of the workerd processes (MB), or null where ps cannot tell. */
function workerdRssMb() {
	const r = spawnSync("ps", ["-C", "workerd", "-o", "rss="], { encoding: "utf8" });
	if (r.status !== 0) return null;
	return r.stdout.split("\n").reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) / 1024;
}

function round(n, digits = 1) {
	return Number(n.toFixed(digits));
}
