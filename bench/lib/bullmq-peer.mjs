// The jobs peer measured in the same run: BullMQ on a throwaway local redis-server (the Debian
// package), N no-op jobs through Queue.addBulk and a Worker with concurrency 50, jobs/s from the
// first add to the last completion. Redis runs on a free loopback port with persistence off and
// is killed at the end; without redis-server the caller records null.
import { execFileSync, spawn } from "node:child_process";
import { createServer, Socket } from "node:net";

const CONCURRENCY = 50;
const ADD_CHUNK = 1_000;

/** The path of redis-server, or null when it is not installed. */
export function findRedisServer() {
	try {
		return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || null;
	} catch {
		return null;
	}
}

/**
 * Why the peer cannot run here (redis-server or BullMQ's Redis client ioredis missing), or null.
 * ioredis is BullMQ's optional peer dependency: `npm i -D ioredis` adds it.
 */
export async function peerMissing() {
	if (findRedisServer() === null) return "redis-server is not installed (apt-get install redis-server)";
	try {
		await import("ioredis");
	} catch {
		return "ioredis (BullMQ's Redis client, an optional peer dependency) is not installed: npm i -D ioredis";
	}
	return null;
}

/**
 * Runs `n` no-op BullMQ jobs; returns { jobs_per_s, completed, seconds } (redis is stopped after),
 * or { skipped } saying what is missing.
 */
export async function runBullmq(n, { timeoutMs = 600_000 } = {}) {
	const missing = await peerMissing();
	if (missing !== null) return { skipped: missing };
	const redis = await startRedis();
	const { port } = redis;
	try {
		const { Queue, Worker } = await import("bullmq");
		const connection = { host: "127.0.0.1", port };
		const queue = new Queue("bench-noop", { connection });
		let completed = 0;
		let resolveDone;
		const done = new Promise((resolve) => {
			resolveDone = resolve;
		});
		const worker = new Worker("bench-noop", async () => null, { connection, concurrency: CONCURRENCY, autorun: false });
		worker.on("completed", () => {
			completed += 1;
			if (completed === n) resolveDone();
		});
		await worker.waitUntilReady();
		const started = Date.now();
		void worker.run();
		for (let i = 0; i < n; i += ADD_CHUNK) {
			const size = Math.min(ADD_CHUNK, n - i);
			await queue.addBulk(
				Array.from({ length: size }, (_, k) => ({
					name: "noop",
					data: { i: i + k },
					opts: { removeOnComplete: true, removeOnFail: true },
				})),
			);
		}
		const timer = new Promise((resolve) => setTimeout(resolve, timeoutMs, "timeout"));
		const outcome = await Promise.race([done, timer]);
		const seconds = (Date.now() - started) / 1000;
		await worker.close();
		await queue.close();
		return {
			jobs: n,
			completed,
			timed_out: outcome === "timeout",
			seconds: Math.round(seconds * 100) / 100,
			jobs_per_s: Math.round(completed / seconds),
			concurrency: CONCURRENCY,
		};
	} finally {
		redis.stop();
	}
}

/** A throwaway redis-server on a free loopback port, persistence off; `stop()` kills it. */
export async function startRedis() {
	const binary = findRedisServer();
	if (binary === null) throw new Error("redis-server is not installed");
	const port = await freePort();
	const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
		stdio: "ignore",
	});
	try {
		await waitForPort(port);
	} catch (err) {
		child.kill("SIGTERM");
		throw err;
	}
	return { port, stop: () => child.kill("SIGTERM") };
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

export async function waitForPort(port, timeoutMs = 10_000) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const open = await new Promise((resolve) => {
			const socket = new Socket();
			socket.once("connect", () => {
				socket.destroy();
				resolve(true);
			});
			socket.once("error", () => resolve(false));
			socket.connect(port, "127.0.0.1");
		});
		if (open) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`nothing listened on 127.0.0.1:${port}`);
}
