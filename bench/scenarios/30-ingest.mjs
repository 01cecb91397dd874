// The seed's truck scenario on this machine: clients ramp from 50 to 500 and hold, each posting
// location updates with a distinct (truck_id, recorded_at); then the queue drains and every accepted
// point must be in D1 exactly once. Throughput is a ratio to GET /api/v1/whoami in the same run.
// BENCH_SECONDS (default 20) is the hold; the ramp takes as long, each baseline phase half of it.
import { drive, fmt } from "../lib/load.mjs";
import { ADMIN_TOKEN } from "../lib/platform.mjs";
import { floorSummary, runtimeFloor } from "../lib/runtime-floor.mjs";

export const title = "Telemetry ingest: ramp 50→500 clients, queue → D1, drain and exactly-once check";

// The points are a day old (distinct keys without running ahead of the clock): keep them in the
// live lane, as before the lanes existed (issue 18), so the figures stay comparable.
// BENCH_GROUP_COMMIT_MS overrides the group-commit window (0: one sendBatch per request) for A/B runs.
export const vars = {
	TELEMETRY_BACKFILL_AGE_SECONDS: "172800",
	TELEMETRY_GROUP_COMMIT_MS: process.env.BENCH_GROUP_COMMIT_MS ?? "2",
};

// The growth curve (issue 12 §5): p50/p99 at each step from 50 to 500 clients.
const RAMP = [50, 100, 200, 300, 400, 500];
const DRAIN_TIMEOUT_MS = 120_000;

export async function run({ url, admin, platform, log }) {
	const hold = Number(process.env.BENCH_SECONDS ?? 20);
	const step = Math.max(1, Math.round(hold / RAMP.length));
	const created = await (await admin("POST", "/tenants", { name: "bench-ingest" })).json();
	// No gateway limits for this tenant: the scenario measures ingest, not the limiter.
	await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules: [] });
	const auth = { authorization: `Bearer ${created.api_key}` };

	// The ratio's baseline brackets the hold: whoami at 64 clients after a warm-up (a cold first
	// phase read ~40 % low), and again after the drain; the mean of the two is the denominator, so
	// the box's drift during the run moves both sides alike.
	const whoami = () =>
		drive({ url: `${url}/api/v1/whoami`, headers: auth, connections: 64, duration: Math.max(2, Math.round(hold / 2)) });
	await drive({ url: `${url}/api/v1/whoami`, headers: auth, connections: 64, duration: 3 });
	const baselineBefore = await whoami();
	log(`baseline GET /api/v1/whoami: ${fmt(baselineBefore.rps)} req/s, p50 ${baselineBefore.p50} ms`);
	// The same bare route at the hold's 500 clients: the tail this box gives any route at that
	// concurrency (load generator and workerd share 2 cores), the floor under ingest's p99.
	const baseline500 = await drive({
		url: `${url}/api/v1/whoami`,
		headers: auth,
		connections: 500,
		duration: Math.max(2, Math.round(hold / 2)),
	});
	log(
		`baseline GET /api/v1/whoami at 500 clients: ${fmt(baseline500.rps)} req/s, p50 ${baseline500.p50} ms, p99 ${baseline500.p99} ms (the Worker's own p99 ${baseline500.server.p99} ms), errors ${baseline500.errors}`,
	);

	// The runtime's own floor at 500 clients: a one-line Worker on the same workerd, and a bare Node
	// server, under the same load (lib/runtime-floor.mjs). BENCH_INGEST_FLOOR=0 skips it.
	const floor =
		process.env.BENCH_INGEST_FLOOR === "0"
			? null
			: await runtimeFloor({ connections: 500, seconds: Math.max(2, Math.round(hold / 2)) });
	if (floor) {
		for (const [name, r] of Object.entries(floor))
			log(
				`floor at 500 clients, ${name === "workerd" ? "a one-line Worker on the same workerd" : "a bare Node server"}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, errors ${r.errors}, answers per connection ${JSON.stringify(r.per_connection)}`,
			);
	}

	let n = 0;
	const base = Date.now() - 86_400_000;
	// recorded_at = base + n identifies each request's point; a 202 adds n to `accepted`.
	const accepted = new Set();
	const post = (connections, duration) =>
		driveIngest({
			url: `${url}/api/v1/location/update`,
			headers: auth,
			connections,
			duration,
			accepted,
			next: () => ++n,
			base,
		});

	const phases = [];
	for (const connections of RAMP) {
		const r = await post(connections, step);
		phases.push({ connections, ...r });
		log(
			`ramp ${connections} clients: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, statuses ${JSON.stringify(r.statuses)}`,
		);
	}
	const held = await post(500, hold);
	phases.push({ connections: 500, hold: true, ...held });
	log(
		`hold 500 clients: ${fmt(held.rps)} req/s, p50 ${held.p50} ms, p99 ${held.p99} ms, max ${held.max} ms (the Worker's own: p50 ${held.server.p50} ms, p99 ${held.server.p99} ms), statuses ${JSON.stringify(held.statuses)}, answers per connection ${JSON.stringify(held.per_connection)}`,
	);
	const loadEnded = Date.now();

	const total = phases.reduce((sum, p) => sum + Object.values(p.statuses).reduce((a, b) => a + b, 0) + p.errors, 0);
	const db = await platform.mf.getD1Database("DB");
	const read = async () => {
		const { results } = await db
			.prepare("SELECT recorded_at FROM truck_locations WHERE tenant_id = ?")
			.bind(created.tenant_id)
			.all();
		const keys = new Set(results.map((r) => r.recorded_at - base));
		let missing = 0;
		for (const k of accepted) if (!keys.has(k)) missing += 1;
		return {
			rows_: results.length,
			keys_: keys.size,
			missing,
			extra: [...keys].filter((k) => !accepted.has(k)).length,
		};
	};
	let landed = await read();
	while (landed.missing > 0 && Date.now() - loadEnded < DRAIN_TIMEOUT_MS) {
		await new Promise((r) => setTimeout(r, 200));
		landed = await read();
	}
	const drainMs = Date.now() - loadEnded;
	const baselineAfter = await whoami();
	log(`baseline GET /api/v1/whoami after the drain: ${fmt(baselineAfter.rps)} req/s, p50 ${baselineAfter.p50} ms`);
	const baseline = { rps: (baselineBefore.rps + baselineAfter.rps) / 2 };
	const platformStats = await (
		await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
	).json();

	const figures = {
		requests: total,
		accepted: accepted.size,
		succeeded_pct: total === 0 ? 0 : Math.round((accepted.size / total) * 10000) / 100,
		failed: total - accepted.size,
		hold_p50_ms: held.p50,
		hold_p99_ms: held.p99,
		// Server-Timing: the Worker's own time per request (authentication to response). The rest of
		// the client's latency is spent before the request reaches the Worker (workerd's one thread
		// serving 500 connections) and on the way back.
		hold_server_p50_ms: held.server.p50,
		hold_server_p99_ms: held.server.p99,
		hold_max_ms: held.max,
		hold_per_connection: held.per_connection,
		hold_accepted_rps: Math.round(((held.statuses[202] ?? 0) / hold) * 10) / 10,
		whoami_rps: Math.round(baseline.rps),
		whoami_rps_before_after: [Math.round(baselineBefore.rps), Math.round(baselineAfter.rps)],
		whoami_500_clients: {
			rps: Math.round(baseline500.rps),
			p50_ms: baseline500.p50,
			p99_ms: baseline500.p99,
			server_p99_ms: baseline500.server.p99,
			errors: baseline500.errors,
			max_ms: baseline500.max,
			per_connection: baseline500.per_connection,
		},
		// null when BENCH_INGEST_FLOOR=0.
		floor_500_clients: floor && {
			one_line_worker: floorSummary(floor.workerd),
			node: floorSummary(floor.node),
		},
		accepted_rps_ratio_to_whoami: Math.round(((held.statuses[202] ?? 0) / hold / baseline.rps) * 1000) / 1000,
		// The same hold against whoami at the same 500 clients: both sides pay the runtime's
		// many-connection cost (the floor above), which the figure above charges to ingest alone.
		accepted_rps_ratio_to_whoami_500_clients:
			Math.round(((held.statuses[202] ?? 0) / hold / baseline500.rps) * 1000) / 1000,
		rows_in_d1: landed.rows_,
		lost: landed.missing,
		duplicated: landed.rows_ - landed.keys_,
		// Requests still in flight when a phase ended: the server took them, the client stopped listening.
		landed_without_counted_response: landed.extra,
		drain_ms_after_load: drainMs,
		consumer_batches: platformStats.batches,
		consumer_avg_batch_ms: platformStats.avg_batch_ms,
		ramp: phases.map((p) => ({
			clients: p.connections,
			rps: Math.round(p.rps),
			p50: p.p50,
			p99: p.p99,
			server_p99: p.server.p99,
			per_connection: p.per_connection,
			statuses: p.statuses,
			errors: p.errors,
		})),
	};
	log(
		`succeeded ${figures.succeeded_pct}% of ${total} (seed: 62.88%); hold p50 ${held.p50} ms / p99 ${held.p99} ms (seed optimised p50: 110 ms)`,
	);
	log(
		`accepted ${figures.hold_accepted_rps} req/s = ${figures.accepted_rps_ratio_to_whoami} × whoami (${figures.accepted_rps_ratio_to_whoami_500_clients} × whoami at 500 clients); ${landed.rows_} rows in D1 for ${accepted.size} accepted (+${landed.extra} answered after the client stopped), lost ${figures.lost}, duplicated ${figures.duplicated}, drained ${drainMs} ms after the load`,
	);
	const groupCommit = await groupCommitFigures(url);
	log(
		`queue: ${groupCommit.messages} producer messages in ${groupCommit.packed} queue messages (${groupCommit.batches} sendBatch calls); consumer: ${platformStats.batches} batches, avg ${platformStats.avg_batch_ms} ms`,
	);
	log("clients   req/s    p50 ms   p99 ms   Worker's own p99 ms");
	for (const p of figures.ramp)
		log(
			`${String(p.clients).padStart(7)} ${fmt(p.rps).padStart(8)} ${String(p.p50).padStart(8)} ${String(p.p99).padStart(8)} ${String(p.server_p99).padStart(8)}`,
		);
	return {
		figures: {
			ingest_accepted_ratio: figures.accepted_rps_ratio_to_whoami,
			ingest_accepted_ratio_500_clients: figures.accepted_rps_ratio_to_whoami_500_clients,
			ingest_success_pct: figures.succeeded_pct,
			ingest_p99_ms_500_clients: figures.hold_p99_ms,
			ingest_whoami_p99_ms_500_clients: baseline500.p99,
			ingest_server_p99_ms_500_clients: held.server.p99,
			ingest_floor_worker_p99_ms_500_clients: floor?.workerd.p99 ?? null,
			ingest_floor_worker_max_ms_500_clients: floor?.workerd.max ?? null,
			ingest_floor_node_p99_ms_500_clients: floor?.node.p99 ?? null,
		},
		...figures,
	};
}

/** The isolate's group-commit counters from GET /metrics (a family absent in older code reads 0). */
async function groupCommitFigures(url) {
	const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
	const text = res.ok ? await res.text() : "";
	const sum = (name) =>
		text
			.split("\n")
			.filter((line) => line.startsWith(`floodgate_queue_group_commit_${name}_total`))
			.reduce((total, line) => total + Number(line.split(" ").at(-1)), 0);
	return { messages: sum("messages"), packed: sum("packed_messages"), batches: sum("batches") };
}

/** lib/load.mjs drive() of location updates, recording which request (by n) got each 202. */
function driveIngest({ url, headers, connections, duration, accepted, next, base }) {
	return drive({
		url,
		method: "POST",
		headers: { ...headers, "content-type": "application/json" },
		connections,
		duration,
		setupRequest: (req, context) => {
			const n = next();
			context.n = n;
			return { ...req, body: JSON.stringify(ingestPoint(n, base)) };
		},
		onResponse: (status, context) => {
			if (status === 202) accepted.add(context.n);
		},
	});
}

/** Request n's point: distinct (truck_id, recorded_at) per request, 1,000 trucks, each point 1 ms after the previous one. */
export function ingestPoint(n, base) {
	return {
		truck_id: `truck-${n % 1000}`,
		lat: 48 + (n % 100) / 100,
		lng: 11 + (n % 50) / 100,
		speed_kmh: 50,
		heading: n % 360,
		recorded_at: new Date(base + n).toISOString(),
	};
}
