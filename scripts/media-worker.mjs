// `npm run worker -- --types recording.audio,recording.video,...`: a reference worker for the
// recording pipeline (docs/recordings.md). It claims stage jobs through the jobs pull API,
// heartbeats with progress while ffmpeg works, uploads artifacts (a single PUT up to a threshold,
// above it a tus upload attached to the recording, so outputs past the 100 MB request limit work),
// then completes the job (or fails it: the jobs platform retries with backoff, then dead-letters).
// Node 22, no npm deps.
//   FLOODGATE_URL (default http://127.0.0.1:8787), FLOODGATE_API_KEY (required),
//   TRANSCRIBE_CMD (default "pocketsphinx_continuous -infile {wav}"), FFMPEG, FFPROBE,
//   ARTIFACT_TUS_THRESHOLD_BYTES (default 64 MiB), TUS_CHUNK_BYTES (default 50 MiB).
import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { STAGES } from "./media-stages.mjs";

export const ALL_TYPES = Object.keys(STAGES).map((s) => `recording.${s}`);
/**
 * Idle polling: soon after work (the next stage of a recording becomes claimable moments after its
 * dependency completes), backing off while nothing comes, up to IDLE_POLL_MAX_MS.
 */
const IDLE_POLL_MIN_MS = 50;
const IDLE_POLL_MAX_MS = 1_000;
const MIB = 1024 * 1024;
/** Artifacts larger than this go by tus (the platform's PUT takes at most RECORDINGS_ARTIFACT_MAX_BYTES, 100 MB). */
export const DEFAULT_TUS_THRESHOLD_BYTES = Number(process.env.ARTIFACT_TUS_THRESHOLD_BYTES ?? 64 * MIB);
/** One tus PATCH: under the platform's UPLOAD_MAX_PATCH_BYTES (100 MB); a lost chunk costs at most this. */
export const DEFAULT_TUS_CHUNK_BYTES = Number(process.env.TUS_CHUNK_BYTES ?? 50 * MIB);
const TUS = "1.0.0";
const TUS_ATTEMPTS = 4;

/**
 * The platform's HTTP API as the stage handlers use it. `sent` records how each artifact went
 * (`put` or `tus`), for tests and logs.
 */
export function platformApi(
	base,
	apiKey,
	{ tusThresholdBytes = DEFAULT_TUS_THRESHOLD_BYTES, tusChunkBytes = DEFAULT_TUS_CHUNK_BYTES } = {},
) {
	const auth = { Authorization: `Bearer ${apiKey}` };
	const api = {
		sent: { put: [], tus: [] },
		authHeader: `Authorization: Bearer ${apiKey}\r\n`,
		url: (p) => new URL(p, base).toString(),
		async post(p, body) {
			const res = await fetch(api.url(p), {
				method: "POST",
				headers: { ...auth, "Content-Type": "application/json" },
				body: JSON.stringify(body),
			});
			if (res.status >= 400) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
			return res;
		},
		async get(p) {
			const res = await fetch(api.url(p), { headers: auth });
			if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
			return res;
		},
		/** An output file as an artifact: one PUT up to the threshold, else tus and attach (no copy server-side). */
		async putArtifact(recordingId, name, file) {
			const { size } = await stat(file);
			if (size > tusThresholdBytes) {
				const uploadId = await api.tusUpload(file, size, name);
				const res = await api.post(`/api/v1/recordings/${recordingId}/artifacts/${name}`, { upload_id: uploadId });
				if (res.status !== 201) throw new Error(`attach ${name}: ${res.status} ${await res.text()}`);
				api.sent.tus.push(name);
				return name;
			}
			const bytes = await readFile(file);
			const res = await fetch(api.url(`/api/v1/recordings/${recordingId}/artifacts/${name}`), {
				method: "PUT",
				headers: auth,
				body: bytes,
			});
			if (res.status !== 201) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
			api.sent.put.push(name);
			return name;
		},
		/**
		 * tus 1.0 upload of a file in chunks read from disk (one chunk in memory), each with its
		 * sha256 (Upload-Checksum); after a failed PATCH it asks HEAD for the server's offset and
		 * resumes there. Returns the upload id.
		 */
		async tusUpload(file, size, name) {
			const tus = { ...auth, "Tus-Resumable": TUS };
			const created = await fetch(api.url("/api/v1/uploads"), {
				method: "POST",
				headers: {
					...tus,
					"Upload-Length": String(size),
					"Upload-Metadata": `filename ${Buffer.from(name).toString("base64")}`,
				},
			});
			if (created.status !== 201) throw new Error(`tus create ${name}: ${created.status} ${await created.text()}`);
			const location = created.headers.get("location");
			const handle = await open(file, "r");
			try {
				let offset = 0;
				let failures = 0;
				while (offset < size) {
					const chunk = Buffer.alloc(Math.min(tusChunkBytes, size - offset));
					await handle.read(chunk, 0, chunk.length, offset);
					const digest = createHash("sha256").update(chunk).digest("base64");
					const res = await fetch(location, {
						method: "PATCH",
						headers: {
							...tus,
							"Upload-Offset": String(offset),
							"Upload-Checksum": `sha256 ${digest}`,
							"Content-Type": "application/offset+octet-stream",
						},
						body: chunk,
					}).catch((error) => ({ status: 0, text: async () => String(error) }));
					if (res.status === 204) {
						offset = Number(res.headers.get("upload-offset"));
						failures = 0;
						continue;
					}
					if (++failures >= TUS_ATTEMPTS) throw new Error(`tus PATCH ${name}: ${res.status} ${await res.text()}`);
					await new Promise((r) => setTimeout(r, 500 * failures));
					const head = await fetch(location, { method: "HEAD", headers: tus });
					if (head.status !== 200) throw new Error(`tus HEAD ${name}: ${head.status}`);
					offset = Number(head.headers.get("upload-offset"));
				}
			} finally {
				await handle.close();
			}
			return location.split("/").pop();
		},
	};
	return api;
}

/**
 * Claims and runs jobs of `types` until `signal` aborts (or, with `idleExitMs`, after that long
 * without work). Returns how many jobs it completed and failed.
 */
export async function runWorker({
	base,
	apiKey,
	types,
	workerId,
	signal,
	idleExitMs,
	log = console.log,
	tusThresholdBytes,
	tusChunkBytes,
}) {
	const api = platformApi(base, apiKey, { tusThresholdBytes, tusChunkBytes });
	const stats = { completed: 0, failed: 0, sent: api.sent };
	let idleSince = Date.now();
	let pollMs = IDLE_POLL_MIN_MS;
	for (;;) {
		if (signal?.aborted) break;
		const res = await api.post("/api/v1/jobs/claim", { worker_id: workerId, types });
		if (res.status === 204) {
			if (idleExitMs !== undefined && Date.now() - idleSince > idleExitMs) break;
			await new Promise((r) => setTimeout(r, pollMs));
			pollMs = Math.min(IDLE_POLL_MAX_MS, pollMs * 2);
			continue;
		}
		pollMs = IDLE_POLL_MIN_MS;
		const job = await res.json();
		const ok = await runJob(api, job, workerId, log);
		stats[ok ? "completed" : "failed"]++;
		idleSince = Date.now();
	}
	return stats;
}

async function runJob(api, job, workerId, log) {
	const stage = job.type.replace(/^recording\./, "");
	const handler = STAGES[stage];
	const abort = new AbortController();
	const dir = await mkdtemp(path.join(tmpdir(), `rec-${stage}-`));
	let progress = 0;
	const beat = async () => {
		const res = await api.post(`/api/v1/jobs/${job.job_id}/heartbeat`, { worker_id: workerId, progress });
		if ((await res.json()).cancelled) abort.abort(new Error("job cancelled"));
	};
	const timer = setInterval(() => void beat().catch(() => {}), Math.min(10, job.timeout_seconds / 3) * 1000);
	const started = Date.now();
	try {
		if (!handler) throw new Error(`no handler for ${job.type}`);
		const ctx = { job, api, dir, signal: abort.signal, progress: async (p) => ((progress = p), beat()) };
		const result = await handler(ctx);
		await api.post(`/api/v1/jobs/${job.job_id}/complete`, { worker_id: workerId, result });
		log(`${job.type} ${job.job_id} unit ${job.payload.unit} done in ${Date.now() - started} ms`);
		return true;
	} catch (err) {
		const message = String(err?.message ?? err).slice(0, 3_900);
		log(`${job.type} ${job.job_id} failed: ${message}`);
		if (!abort.signal.aborted)
			await api
				.post(`/api/v1/jobs/${job.job_id}/fail`, { worker_id: workerId, error: message, retry: true })
				.catch(() => {});
		return false;
	} finally {
		clearInterval(timer);
		await rm(dir, { recursive: true, force: true });
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const { values } = parseArgs({
		options: {
			types: { type: "string", default: ALL_TYPES.join(",") },
			url: { type: "string", default: process.env.FLOODGATE_URL ?? "http://127.0.0.1:8787" },
			"worker-id": { type: "string", default: `media-${hostname()}-${process.pid}` },
			"tus-threshold": { type: "string", default: String(DEFAULT_TUS_THRESHOLD_BYTES) },
		},
	});
	const apiKey = process.env.FLOODGATE_API_KEY;
	if (!apiKey) {
		console.error("Set FLOODGATE_API_KEY to the tenant's API key.");
		process.exit(2);
	}
	const controller = new AbortController();
	process.on("SIGINT", () => controller.abort());
	process.on("SIGTERM", () => controller.abort());
	const types = values.types.split(",").map((t) => t.trim());
	console.log(`media worker ${values["worker-id"]} claiming ${types.join(", ")} from ${values.url}`);
	await runWorker({
		base: values.url,
		apiKey,
		types,
		workerId: values["worker-id"],
		signal: controller.signal,
		tusThresholdBytes: Number(values["tus-threshold"]),
	});
}
