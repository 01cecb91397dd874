// Starts the Floodgate Worker for benchmarks on the fastest faithful local runtime we have:
// Miniflare (the same workerd, D1, Durable Objects and Queues simulators as `wrangler dev`) with
// the Worker also exposed on a direct workerd socket, skipping Miniflare's entry worker and
// wrangler's dev proxy. Measured on this machine: `wrangler dev` ~1.4k req/s for a bare Worker,
// Miniflare's dispatch ~5.7k, a direct workerd socket ~20k+.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

export const ADMIN_TOKEN = "bench-admin-token";

/** A caller of the platform's admin API at `url`: admin(method, path under /api/v1/admin, body?). */
export function adminClient(url) {
	return (method, p, body) =>
		fetch(`${url}/api/v1/admin${p}`, {
			method,
			headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
}

/** Bundles the Worker exactly as `wrangler deploy` would, into dist/. */
export function buildWorker(root) {
	execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"], { cwd: root, stdio: "ignore" });
	return path.join(root, "dist", "index.js");
}

/**
 * `inspectorPort` (0 for a free one) opens workerd's DevTools inspector, for bench/profile.mjs.
 * `consumers: false` runs no queue consumer: the producers' cost alone, without the consumers' and
 * the local D1's work on the same workerd thread.
 * @param {{ root: string, port: number, vars?: Record<string,string>, inspectorPort?: number, consumers?: boolean }} options
 * @returns {Promise<{ url: string, mf: Miniflare, scriptPath: string, stop: () => Promise<void> }>}
 */
export async function startPlatform({ root, port, vars = {}, inspectorPort, consumers = true }) {
	const scriptPath = buildWorker(root);
	// Benchmark state is throwaway: keep it on a memory-backed filesystem when there is one, so the
	// figures measure the runtime and our code rather than this VM's disk flushes (production
	// Durable Object and D1 storage is not a local disk either). BENCH_PERSIST_DIR overrides.
	const base = process.env.BENCH_PERSIST_DIR ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
	const persistRoot = mkdtempSync(path.join(base, "floodgate-bench-"));
	// Miniflare also keeps workerd's working files (Durable Object SQLite files among them) under
	// the OS temp directory: point that at the same place.
	process.env.TMPDIR = base;
	// modulesRules only matter for unbundled sources; the bundle is one ES module. Static assets
	// (the dashboard) are left out: on Cloudflare they are matched before the Worker runs, while
	// Miniflare's local asset router sits in front of every request and cut API throughput ~4x.
	const {
		workerOptions: { modulesRules: _rules, assets: _assets, ...workerOptions },
	} = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
	// Miniflare 5 takes a new option shape; wrangler still produces the v4 one, so convert it.
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			host: "127.0.0.1",
			port: 0,
			...(inspectorPort === undefined ? {} : { inspectorPort }),
			defaultPersistRoot: persistRoot,
			workers: [
				{
					...workerOptions,
					name: "floodgate",
					modules: true,
					scriptPath,
					bindings: { ...workerOptions.bindings, ADMIN_TOKEN, ...vars },
					// Producers only: messages stay in the queues (bench/profile.mjs PROFILE_NO_CONSUMERS).
					...(consumers ? {} : { queueConsumers: {} }),
					unsafeDirectSockets: [{ host: "127.0.0.1", port }],
				},
			],
		}),
	);
	await mf.ready;
	await applyMigrations(mf, path.join(root, "migrations"));
	return {
		url: `http://127.0.0.1:${port}`,
		mf,
		scriptPath,
		rssMb: () => workerdRssMb(process.pid),
		cpuMs: () => workerdCpuMs(process.pid),
		stop: async () => {
			await mf.dispose();
			rmSync(persistRoot, { recursive: true, force: true });
		},
	};
}

async function applyMigrations(mf, dir) {
	const db = await mf.getD1Database("DB");
	for (const file of readdirSync(dir)
		.filter((f) => f.endsWith(".sql"))
		.sort()) {
		const statements = unstable_splitSqlQuery(readFileSync(path.join(dir, file), "utf8"));
		await db.batch(statements.map((s) => db.prepare(s)));
	}
}

/**
 * Resident memory (VmRSS, MB) of the workerd processes started under `ancestor` (Miniflare spawns
 * one), read from /proc; null where there is no /proc or no workerd.
 */
export function workerdRssMb(ancestor) {
	if (!existsSync("/proc")) return null;
	let kb = 0;
	let found = false;
	for (const pid of workerdPids(ancestor)) {
		try {
			const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
			if (match) {
				kb += Number(match[1]);
				found = true;
			}
		} catch {
			// The process ended while we looked.
		}
	}
	return found ? Math.round(kb / 1024) : null;
}

/**
 * CPU time (user + system, ms) used so far by the workerd processes started under `ancestor`, read
 * from /proc (clock ticks of 10 ms); null where there is no /proc or no workerd. The difference over
 * a run, per request, is a cost figure; it moves with this VM's speed as throughput does, so compare
 * phases of one run.
 */
export function workerdCpuMs(ancestor) {
	if (!existsSync("/proc")) return null;
	let ms = 0;
	let found = false;
	for (const pid of workerdPids(ancestor)) {
		const ticks = cpuTicks(`/proc/${pid}/stat`);
		if (ticks === null) continue;
		ms += ticks * 10;
		found = true;
	}
	return found ? ms : null;
}

/**
 * CPU time (ms) of the workerd processes under `ancestor`, split into each process's main thread
 * (where workerd runs every isolate: the Worker, its Durable Objects and Miniflare's Queues and D1
 * simulators) and its other threads (V8's background compiler and GC helpers); null without /proc.
 */
export function workerdThreadCpuMs(ancestor) {
	if (!existsSync("/proc")) return null;
	let main = 0;
	let others = 0;
	let found = false;
	for (const pid of workerdPids(ancestor)) {
		let tids = [];
		try {
			tids = readdirSync(`/proc/${pid}/task`);
		} catch {
			// The process ended while we looked.
		}
		for (const tid of tids) {
			const ticks = cpuTicks(`/proc/${pid}/task/${tid}/stat`);
			if (ticks === null) continue;
			if (tid === String(pid)) main += ticks * 10;
			else others += ticks * 10;
			found = true;
		}
	}
	return found ? { main, others } : null;
}

/** CPU time (ms) this Node process (the load generator) has used so far. */
export function ownCpuMs() {
	const usage = process.cpuUsage();
	return (usage.user + usage.system) / 1000;
}

/** utime + stime (clock ticks) from a /proc stat file, or null if it is gone. */
function cpuTicks(file) {
	try {
		const stat = readFileSync(file, "utf8");
		// "pid (comm) state ppid …": comm may contain spaces, so split after the last ")"; utime and
		// stime are fields 14 and 15 of the whole line.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return Number(fields[11]) + Number(fields[12]);
	} catch {
		return null;
	}
}

/** The pids of the workerd processes started under `ancestor`. */
function workerdPids(ancestor) {
	const stats = new Map();
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const close = stat.lastIndexOf(")");
			stats.set(Number(entry), {
				name: stat.slice(stat.indexOf("(") + 1, close),
				ppid: Number(stat.slice(close + 2).split(" ")[1]),
			});
		} catch {
			// The process ended while we looked.
		}
	}
	const descends = (pid) => {
		for (let p = stats.get(pid)?.ppid; p !== undefined && p > 1; p = stats.get(p)?.ppid)
			if (p === ancestor) return true;
		return false;
	};
	return [...stats].filter(([pid, s]) => s.name.startsWith("workerd") && descends(pid)).map(([pid]) => pid);
}
