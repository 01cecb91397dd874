// `npm run worker -- --types recording.audio,recording.video,...`: a reference worker for the
// recording pipeline (docs/recordings.md). It claims stage jobs through the jobs pull API,
// heartbeats with progress while ffmpeg works, uploads artifacts with PUT, then completes the job
// (or fails it: the jobs platform retries with backoff, then dead-letters). Node 22, no npm deps.
//   FLOODGATE_URL (default http://127.0.0.1:8787), FLOODGATE_API_KEY (required),
//   TRANSCRIBE_CMD (default "pocketsphinx_continuous -infile {wav}"), FFMPEG, FFPROBE.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { STAGES } from "./media-stages.mjs";

export const ALL_TYPES = Object.keys(STAGES).map((s) => `recording.${s}`);
const IDLE_POLL_MS = 500;

/** The platform's HTTP API as the stage handlers use it. */
export function platformApi(base, apiKey) {
	const auth = { Authorization: `Bearer ${apiKey}` };
	const api = {
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
		async putArtifact(recordingId, name, file) {
			const bytes = await readFile(file);
			const res = await fetch(api.url(`/api/v1/recordings/${recordingId}/artifacts/${name}`), {
				method: "PUT",
				headers: auth,
				body: bytes,
			});
			if (res.status !== 201) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
			return name;
		},
	};
	return api;
}

/**
 * Claims and runs jobs of `types` until `signal` aborts (or, with `idleExitMs`, after that long
 * without work). Returns how many jobs it completed and failed.
 */
export async function runWorker({ base, apiKey, types, workerId, signal, idleExitMs, log = console.log }) {
	const api = platformApi(base, apiKey);
	const stats = { completed: 0, failed: 0 };
	let idleSince = Date.now();
	for (;;) {
		if (signal?.aborted) break;
		const res = await api.post("/api/v1/jobs/claim", { worker_id: workerId, types });
		if (res.status === 204) {
			if (idleExitMs !== undefined && Date.now() - idleSince > idleExitMs) break;
			await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
			continue;
		}
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
	await runWorker({ base: values.url, apiKey, types, workerId: values["worker-id"], signal: controller.signal });
}
