// `node bench/profile.mjs ingest|whoami|whoami-limited|echo|echo-fresh-key [more…]`: where one route's CPU goes (issue 12 §2).
// Starts the platform as the benchmark does (Miniflare, the bundle wrangler's dry run builds) with
// workerd's DevTools inspector open, warms the route up, then samples the floodgate isolate with
// the Chrome DevTools Protocol's Profiler while autocannon drives the route, and prints self time
// by function and by source file (bundle positions mapped to src/ through dist/index.js.map).
// Writes bench/results/profiles/<target>-<stamp>.cpuprofile (open it in Chrome's DevTools or
// speedscope) and a small .summary.json beside it.
// Knobs: PROFILE_SECONDS (10), PROFILE_CONNECTIONS (100), PROFILE_WARMUP_REQUESTS (5,000: every
// one of ingest's 1,000 trucks has its limiter object and lease before sampling starts; the cold
// phase, when each first point creates a Durable Object, is a different profile — set 0 to see it),
// PROFILE_INTERVAL_US (250, the sampling interval), PROFILE_TOP (15 rows per table),
// PROFILE_THREAD_SECONDS (5: an unprofiled phase measuring CPU by thread, see measureThreads),
// PROFILE_NO_CONSUMERS (1: no queue consumer runs, so ingest's figures are the producer's alone),
// PROFILE_EXTRA_TARGETS (comma-separated other workerd isolates sampled alongside, e.g.
// `queues:queue,d1:db` — Miniflare's queue broker and D1 simulator), BENCH_PORT (8790).
// Platform vars are the ingest scenario's (group commit on, points kept in the live lane), with
// IDEMPOTENCY_LEGACY_UNTIL="" as in the idempotency scenario.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadSourceMap, printSummary, summarise } from "./lib/cpuprofile.mjs";
import { drive, fmt } from "./lib/load.mjs";
import { adminClient, ownCpuMs, startPlatform, workerdThreadCpuMs } from "./lib/platform.mjs";
import { unlimitedTenant } from "./lib/unlimited-tenant.mjs";
import { HIGH_LIMITS } from "./scenarios/10-gateway.mjs";
import { ingestPoint, vars } from "./scenarios/30-ingest.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 100);
const warmup = Number(process.env.PROFILE_WARMUP_REQUESTS ?? 5000);
const interval = Number(process.env.PROFILE_INTERVAL_US ?? 250);
const top = Number(process.env.PROFILE_TOP ?? 15);
const threadSeconds = Number(process.env.PROFILE_THREAD_SECONDS ?? 5);
const extraTargets = (process.env.PROFILE_EXTRA_TARGETS ?? "").split(",").filter(Boolean);
const port = Number(process.env.BENCH_PORT ?? 8790);
const INGEST_BASE = Date.now() - 86_400_000;
const STAMP = Date.now().toString(36);

// What each target drives: a route, and how each request is made.
const TARGETS = {
	whoami: { method: "GET", path: "/api/v1/whoami" },
	// The gateway scenario's limited tenant: three policies on two keys, every request through the limiter.
	"whoami-limited": { method: "GET", path: "/api/v1/whoami", rules: HIGH_LIMITS },
	// The idempotency scenario's POST, without a key and with a fresh key per request.
	echo: { method: "POST", path: "/api/v1/echo", body: echoBody },
	"echo-fresh-key": { method: "POST", path: "/api/v1/echo", body: echoBody, key: (n) => `profile-${STAMP}-${n}` },
	ingest: { method: "POST", path: "/api/v1/location/update", body: ingestBody },
};

const wanted = process.argv.slice(2);
if (wanted.length === 0 || wanted.some((t) => !(t in TARGETS))) {
	console.error(`usage: node bench/profile.mjs ${Object.keys(TARGETS).join("|")} [more…]`);
	process.exit(2);
}

const consumers = process.env.PROFILE_NO_CONSUMERS !== "1";
// The idempotency scenario's setting too: a fresh platform has no legacy one-object-per-key keys.
const platform = await startPlatform({
	root,
	port,
	vars: {
		...vars,
		IDEMPOTENCY_LEGACY_UNTIL: "",
		...(process.env.BENCH_IDEMPOTENCY_SHARDS ? { IDEMPOTENCY_SHARDS: process.env.BENCH_IDEMPOTENCY_SHARDS } : {}),
	},
	inspectorPort: 0,
	consumers,
});
if (!consumers) console.log("queue consumers off: the producers' cost alone (PROFILE_NO_CONSUMERS=1)");
const outDir = path.join(root, "bench", "results", "profiles");
mkdirSync(outDir, { recursive: true });
try {
	const admin = adminClient(platform.url);
	const unlimited = await unlimitedTenant(admin, "bench-profile");
	const inspector = await platform.mf.getInspectorURL();
	const sourceMap = loadSourceMap(platform.scriptPath);
	if (sourceMap === null) console.log("no source map beside the bundle: frames stay as bundle positions");
	const stamp = new Date().toISOString().replace(/[:.]/g, "-");
	for (const name of wanted) {
		const target = TARGETS[name];
		const tenant = target.rules ? await limitedTenant(admin, target.rules) : unlimited;
		let n = 0;
		const load = (duration, amount) =>
			drive({
				amount,
				url: `${platform.url}${target.path}`,
				method: target.method,
				headers: tenant.headers,
				connections,
				duration,
				setupRequest: target.body
					? (req) => {
							n += 1;
							const body = JSON.stringify(target.body(n));
							if (target.key === undefined) return { ...req, body };
							return { ...req, body, headers: { ...req.headers, "idempotency-key": target.key(n) } };
						}
					: undefined,
			});
		if (warmup > 0) await load(600, warmup);
		if (threadSeconds > 0) printThreads(name, await measureThreads(() => load(threadSeconds)));
		const sessions = await Promise.all(
			["core:user:floodgate", ...extraTargets].map((id) => openSession(inspector, id)),
		);
		for (const s of sessions) {
			await s.send("Profiler.enable");
			await s.send("Profiler.setSamplingInterval", { interval });
		}
		await Promise.all(sessions.map((s) => s.send("Profiler.start")));
		const result = await load(seconds);
		const profiles = await Promise.all(sessions.map((s) => s.send("Profiler.stop")));
		for (const s of sessions) s.close();
		console.log(
			`\n== ${target.method} ${target.path}: ${fmt(result.rps)} req/s at ${connections} clients for ${seconds} s, p50 ${result.p50} ms, p99 ${result.p99} ms, statuses ${JSON.stringify(result.statuses)}, errors ${result.errors} ==`,
		);
		sessions.forEach((s, i) => {
			const file = path.join(outDir, `${name}-${s.id.replaceAll(":", "_")}-${stamp}.cpuprofile`);
			writeFileSync(file, JSON.stringify(profiles[i].profile));
			const summary = summarise(profiles[i].profile, { sourceMap: s.id === "core:user:floodgate" ? sourceMap : null });
			writeFileSync(
				file.replace(/\.cpuprofile$/, ".summary.json"),
				`${JSON.stringify({ target: name, isolate: s.id, rps: result.rps, requests: result.total, connections, seconds, ...summary, functions: summary.functions.slice(0, 50), files: summary.files.slice(0, 50), stackFiles: summary.stackFiles.slice(0, 50) }, null, "\t")}\n`,
			);
			printSummary(summary, { title: `${name}, isolate ${s.id}`, top, requests: result.total });
			console.log(`profile: ${path.relative(root, file)}`);
		});
	}
} finally {
	await platform.stop();
}
// autocannon or the inspector socket may keep a handle open: stop anyway.
process.exit(0);

/**
 * CPU by thread over one unprofiled load phase: workerd runs every isolate (the Worker, its Durable
 * Objects, Miniflare's Queues broker and D1) on its main thread, so that thread's busy share says
 * whether the route is bound by that one core; the load generator's CPU is this process's.
 */
async function measureThreads(run) {
	const before = { threads: workerdThreadCpuMs(process.pid), own: ownCpuMs(), at: Date.now() };
	const result = await run();
	const after = { threads: workerdThreadCpuMs(process.pid), own: ownCpuMs(), at: Date.now() };
	if (before.threads === null || after.threads === null) return { result, threads: null };
	return {
		result,
		wallMs: after.at - before.at,
		main: after.threads.main - before.threads.main,
		others: after.threads.others - before.threads.others,
		own: after.own - before.own,
	};
}

function printThreads(name, m) {
	if (m.threads === null) {
		console.log(`\n${name}: no /proc here, so no CPU by thread`);
		return;
	}
	const per = (ms) => `${fmt((ms * 1000) / m.result.total)} µs/request`;
	console.log(
		`\n${name} without the profiler: ${fmt(m.result.rps)} req/s at ${connections} clients; workerd main thread ${fmt((m.main / m.wallMs) * 100)} % busy (${per(m.main)}), its other threads ${per(m.others)}, the load generator ${per(m.own)}`,
	);
}

/** A tenant whose gateway rules are `rules`: { headers }. */
async function limitedTenant(admin, rules) {
	const created = await (await admin("POST", "/tenants", { name: "bench-profile-limited" })).json();
	const res = await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules });
	if (res.status !== 200) throw new Error(`limits: ${res.status} ${await res.text()}`);
	return { headers: { authorization: `Bearer ${created.api_key}` } };
}

/** The idempotency scenario's body. */
function echoBody() {
	return { machine_id: "vm-bench", slot: "A1", quantity: 1 };
}

/** The ingest scenario's body, a day old. */
function ingestBody(n) {
	return ingestPoint(n, INGEST_BASE);
}

/** A minimal DevTools Protocol client over Node 22's global WebSocket. */
async function openSession(inspector, id) {
	const ws = new WebSocket(`ws://${inspector.host}/${id}`);
	await new Promise((resolve, reject) => {
		ws.addEventListener("open", resolve, { once: true });
		ws.addEventListener("error", () => reject(new Error(`inspector target ${id}: cannot connect`)), { once: true });
	});
	let next = 0;
	const pending = new Map();
	ws.addEventListener("message", (event) => {
		const msg = JSON.parse(String(event.data));
		const waiter = pending.get(msg.id);
		if (!waiter) return;
		pending.delete(msg.id);
		if (msg.error) waiter.reject(new Error(`${id}: ${msg.error.message}`));
		else waiter.resolve(msg.result);
	});
	return {
		id,
		send: (method, params = {}) =>
			new Promise((resolve, reject) => {
				const callId = ++next;
				pending.set(callId, { resolve, reject });
				ws.send(JSON.stringify({ id: callId, method, params }));
			}),
		close: () => ws.close(),
	};
}
