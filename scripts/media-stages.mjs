// The media work of each recording stage, with ffmpeg/ffprobe and an offline speech recogniser
// (scripts/media-worker.mjs claims the jobs and calls these). Inputs are read over HTTP from the
// platform (ffmpeg issues Range requests itself); outputs are PUT back as artifacts.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";

/** Rendition name → output height (the source is scaled, aspect kept). */
export const RENDITIONS = { "720p": 720, "360p": 360 };
/** Highlights: at most this many ranges, each at most this long (seconds). */
const MAX_HIGHLIGHTS = 3;
const MAX_HIGHLIGHT_SECONDS = 6;

/** Runs a command; resolves with its stdout and stderr, rejects on a non-zero exit or an abort. */
export function run(cmd, args, { signal } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], signal });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d) => (stdout += d));
		child.stderr.on("data", (d) => (stderr += d));
		child.on("error", reject);
		child.on("close", (code) =>
			code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-800)}`)),
		);
	});
}

/** The stage handlers: (ctx) => result, where ctx = { job, api, dir, signal, progress }. */
export const STAGES = {
	audio: async ({ job, api, dir, signal }) => {
		const out = path.join(dir, "audio.m4a");
		await ffmpeg(api, ["-i", api.url(job.payload.source_url), "-vn", "-c:a", "aac", "-b:a", "96k", out], signal);
		return { artifacts: [await api.putArtifact(job.payload.recording_id, "audio.m4a", out)] };
	},

	video: async (ctx) => (ctx.job.payload.merge ? mergeVideo(ctx) : videoSegment(ctx)),

	transcript: async ({ job, api, dir, signal }) => {
		const wav = path.join(dir, "speech.wav");
		await ffmpeg(api, ["-i", api.url(job.payload.source_url), "-vn", "-ac", "1", "-ar", "16000", wav], signal);
		const [cmd, ...args] = (process.env.TRANSCRIBE_CMD ?? "pocketsphinx_continuous -infile {wav}")
			.split(/\s+/)
			.map((a) => a.replace("{wav}", wav));
		const { stdout } = await run(cmd, args, { signal });
		const text = path.join(dir, "transcript.txt");
		await writeFile(text, stdout.trim() + "\n");
		return { artifacts: [await api.putArtifact(job.payload.recording_id, "transcript.txt", text)] };
	},

	highlights: async ({ job, api, dir, signal }) => {
		const id = job.payload.recording_id;
		const audio = api.url(`${job.payload.artifacts_url}/audio.m4a`);
		const video = api.url(`${job.payload.artifacts_url}/video_360p.mp4`);
		const silence = await ffmpeg(api, ["-i", audio, "-af", "silencedetect=n=-35dB:d=0.6", "-f", "null", "-"], signal);
		const duration = await probeDuration(api, audio);
		const loud = soundRanges(silence.stderr, duration);
		const scenes = await ffmpeg(
			api,
			["-i", video, "-vf", "select='gt(scene,0.3)',showinfo", "-f", "null", "-"],
			signal,
		);
		const cuts = [...scenes.stderr.matchAll(/pts_time:([0-9.]+)/g)].map((m) => Number(m[1]));
		const highlights = loud
			.sort((a, b) => b.end - b.start - (a.end - a.start))
			.slice(0, MAX_HIGHLIGHTS)
			.map((r) => ({ start: r.start, end: Math.min(r.end, r.start + MAX_HIGHLIGHT_SECONDS), reason: "speech" }))
			.sort((a, b) => a.start - b.start);
		const file = path.join(dir, "highlights.json");
		await writeFile(file, JSON.stringify({ duration, highlights, sound: loud, scene_changes: cuts }, null, 2));
		return { highlights: highlights.length, artifacts: [await api.putArtifact(id, "highlights.json", file)] };
	},

	summary: async ({ job, api, dir, signal }) => {
		const id = job.payload.recording_id;
		const res = await api.get(`${job.payload.artifacts_url}/highlights.json`);
		const { highlights, duration } = await res.json();
		const ranges = highlights.length > 0 ? highlights : [{ start: 0, end: Math.min(duration, MAX_HIGHLIGHT_SECONDS) }];
		const video = api.url(`${job.payload.artifacts_url}/video_360p.mp4`);
		const parts = [];
		for (const [i, r] of ranges.entries()) {
			const part = path.join(dir, `clip${i}.mp4`);
			await ffmpeg(api, ["-ss", String(r.start), "-t", String(r.end - r.start), "-i", video, ...H264, part], signal);
			parts.push(part);
		}
		const out = path.join(dir, "summary.mp4");
		await concat(api, parts, out, dir, signal);
		return { clips: parts.length, artifacts: [await api.putArtifact(id, "summary.mp4", out)] };
	},
};

const H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"];

/**
 * One segment of the video in every rendition. Byte-range segments of an MP4 are not decodable on
 * their own, so segment i of n is mapped onto time: [i·D/n, (i+1)·D/n) of the source's duration.
 */
async function videoSegment({ job, api, dir, signal, progress }) {
	const { recording_id: id, source_url: src, segment } = job.payload;
	const input = api.url(src);
	const duration = await probeDuration(api, input);
	const start = (segment.index * duration) / segment.count;
	const length = duration / segment.count;
	const artifacts = [];
	for (const [name, height] of Object.entries(RENDITIONS)) {
		const out = path.join(dir, `video_${name}.part${segment.index}.mp4`);
		const seek = ["-ss", start.toFixed(3), "-t", length.toFixed(3), "-i", input];
		await ffmpeg(api, [...seek, "-vf", `scale=-2:${height}`, ...H264, out], signal);
		artifacts.push(await api.putArtifact(id, path.basename(out), out));
		await progress(artifacts.length / Object.keys(RENDITIONS).length);
	}
	return { segment: segment.index, artifacts };
}

/** The merge job: every rendition's segments joined (concat demuxer, no re-encoding). */
async function mergeVideo({ job, api, dir, signal }) {
	const { recording_id: id, segments, artifacts_url: base } = job.payload;
	const artifacts = [];
	for (const name of Object.keys(RENDITIONS)) {
		const parts = [];
		for (let i = 0; i < segments; i++) {
			const res = await api.get(`${base}/video_${name}.part${i}.mp4`);
			const file = path.join(dir, `video_${name}.part${i}.mp4`);
			await writeFile(file, Buffer.from(await res.arrayBuffer()));
			parts.push(file);
		}
		const out = path.join(dir, `video_${name}.mp4`);
		await concat(api, parts, out, dir, signal);
		artifacts.push(await api.putArtifact(id, `video_${name}.mp4`, out));
	}
	return { artifacts };
}

async function concat(api, parts, out, dir, signal) {
	const list = path.join(dir, `${path.basename(out)}.txt`);
	await writeFile(list, parts.map((p) => `file '${p}'`).join("\n"));
	await ffmpeg(api, ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", out], signal);
}

/** ffmpeg with the platform's credential on every HTTP input. */
function ffmpeg(api, args, signal) {
	const bin = process.env.FFMPEG ?? "ffmpeg";
	return run(bin, ["-hide_banner", "-nostdin", "-y", ...withAuth(api, args)], { signal });
}

/** `-headers` before each HTTP input (only there: a local input would reject the option). */
function withAuth(api, args) {
	return args.flatMap((arg, i) =>
		arg === "-i" && /^https?:/.test(args[i + 1]) ? ["-headers", api.authHeader, arg] : [arg],
	);
}

export async function probeDuration(api, input) {
	const bin = process.env.FFPROBE ?? "ffprobe";
	const headers = /^https?:/.test(input) ? ["-headers", api.authHeader] : [];
	const args = ["-v", "error", ...headers, "-show_entries", "format=duration", "-of", "csv=p=0", input];
	const { stdout } = await run(bin, args);
	const duration = Number(stdout.trim());
	if (!Number.isFinite(duration)) throw new Error(`ffprobe: no duration for ${input}`);
	return duration;
}

/** Ranges with sound between silencedetect's silences. */
export function soundRanges(stderr, duration) {
	const starts = [...stderr.matchAll(/silence_start: (-?[0-9.]+)/g)].map((m) => Math.max(0, Number(m[1])));
	const ends = [...stderr.matchAll(/silence_end: ([0-9.]+)/g)].map((m) => Number(m[1]));
	const ranges = [];
	let cursor = 0;
	for (let i = 0; i < starts.length; i++) {
		if (starts[i] - cursor > 0.3) ranges.push({ start: round(cursor), end: round(starts[i]) });
		cursor = ends[i] ?? duration;
	}
	if (duration - cursor > 0.3) ranges.push({ start: round(cursor), end: round(duration) });
	return ranges;
}

function round(s) {
	return Math.round(s * 100) / 100;
}
