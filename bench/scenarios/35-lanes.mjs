// Ingest lanes (issue 18): live-point latency, accept → in D1, with and without a concurrent
// backfill of 500,000 old points. Live clients post single fresh points for BENCH_SECONDS (default
// 20) alone, then again while backfill clients post 500-point batches recorded two days ago (the
// backfill lane: its own queue, a consumer paced to TELEMETRY_BACKFILL_WRITES_PER_SECOND).
// Latency per live point = when the scenario first sees its row in D1 (polled every POLL_MS)
// − its received_at; goal: live p99 with backfill ≤ 1.5 × without.
import autocannon from "autocannon";
import { fmt } from "../lib/load.mjs";

export const title = "Ingest lanes: live p99 accept → D1, alone and beside a 500,000-point backfill";

// The producer limits and the backlog bound are raised so the whole backfill is accepted quickly:
// the scenario measures the consumers' isolation, not the limiter (tested elsewhere).
export const vars = {
	TELEMETRY_MAX_BACKLOG: "2000000",
	TELEMETRY_BACKFILL_TENANT_POINTS_PER_MINUTE: "100000000",
	TELEMETRY_BACKFILL_DEVICE_POINTS_PER_MINUTE: "10000000",
};

const BACKFILL_POINTS = 500_000;
const BACKFILL_BATCH = 500;
const BACKFILL_WORKERS = 8;
const LIVE_CONNECTIONS = 50;
const POLL_MS = 50;
const SETTLE_TIMEOUT_MS = 60_000;

export async function run({ url, admin, platform, log }) {
	const hold = Number(process.env.BENCH_SECONDS ?? 20);
	const db = await platform.mf.getD1Database("DB");
	const tenant = async (name) => {
		const created = await (await admin("POST", "/tenants", { name })).json();
		await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules: [] });
		return { id: created.tenant_id, auth: { authorization: `Bearer ${created.api_key}` } };
	};

	const alone = await livePhase({ url, db, tenant: await tenant("bench-live-alone"), hold });
	log(`live alone: ${fmt(alone.accepted)} points, accept → D1 p50 ${alone.p50} ms, p99 ${alone.p99} ms`);

	const backfillTenant = await tenant("bench-backfill");
	const backfill = driveBackfill({ url, auth: backfillTenant.auth, until: Date.now() + hold * 1000 * 3 });
	const beside = await livePhase({ url, db, tenant: await tenant("bench-live-beside"), hold });
	const flood = await backfill;
	log(
		`live beside backfill: ${fmt(beside.accepted)} points, p50 ${beside.p50} ms, p99 ${beside.p99} ms; backfill accepted ${fmt(flood.accepted)} points (${JSON.stringify(flood.statuses)})`,
	);
	const landed = await db
		.prepare("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?")
		.bind(backfillTenant.id)
		.first();
	const ratio = alone.p99 > 0 ? Math.round((beside.p99 / alone.p99) * 100) / 100 : null;
	log(
		`live p99 ratio with/without backfill: ${ratio} (goal ≤ 1.5); backfill rows in D1 so far: ${fmt(landed?.n ?? 0)}`,
	);
	return {
		live_alone: alone,
		live_beside_backfill: beside,
		live_p99_ratio: ratio,
		backfill_accepted_points: flood.accepted,
		backfill_statuses: flood.statuses,
		backfill_rows_in_d1_at_end: landed?.n ?? 0,
	};
}

/** Fresh single points for `hold` s; then waits until every accepted one is in D1. */
async function livePhase({ url, db, tenant, hold }) {
	if (!/^http:\/\/127\.0\.0\.1:\d+/.test(url)) throw new Error(`load tests target 127.0.0.1 only, not ${url}`);
	let n = 0;
	let accepted = 0;
	const seen = new Map(); // "truck|recorded_at" → ms from received_at to first seen in D1
	let lastRowid = 0;
	// Stopped from outside the loop (after the load and the settling wait).
	const polling = { running: true };
	const poll = async () => {
		while (polling.running) {
			const { results } = await db
				.prepare(
					"SELECT rowid, truck_id, recorded_at, received_at FROM truck_locations WHERE tenant_id = ? AND rowid > ? ORDER BY rowid",
				)
				.bind(tenant.id, lastRowid)
				.all();
			const now = Date.now();
			for (const r of results) {
				lastRowid = Math.max(lastRowid, r.rowid);
				seen.set(`${r.truck_id}|${r.recorded_at}`, now - r.received_at);
			}
			await new Promise((resolve) => setTimeout(resolve, POLL_MS));
		}
	};
	const poller = poll();
	await autocannon({
		url: `${url}/api/v1/location/update`,
		method: "POST",
		headers: { ...tenant.auth, "content-type": "application/json" },
		connections: LIVE_CONNECTIONS,
		duration: hold,
		pipelining: 1,
		requests: [
			{
				setupRequest: (req) => {
					n += 1;
					const body = { truck_id: `live-${n % 10_000}`, lat: 48.1, lng: 11.5, recorded_at: new Date().toISOString() };
					return { ...req, body: JSON.stringify(body) };
				},
				onResponse: (status) => {
					if (status === 202) accepted += 1;
				},
			},
		],
	});
	const deadline = Date.now() + SETTLE_TIMEOUT_MS;
	while (seen.size < accepted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	polling.running = false;
	await poller;
	const latencies = [...seen.values()].sort((a, b) => a - b);
	const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
	return { accepted, landed: seen.size, p50: at(0.5), p99: at(0.99) };
}

/** BACKFILL_WORKERS clients post 500-point batches recorded two days ago until 500,000 are accepted. */
async function driveBackfill({ url, auth, until }) {
	const twoDaysAgo = Date.now() - 2 * 86_400_000;
	const statuses = {};
	let next = 0;
	let accepted = 0;
	const worker = async (w) => {
		while (accepted < BACKFILL_POINTS && Date.now() < until) {
			const first = next;
			next += BACKFILL_BATCH;
			const points = Array.from({ length: BACKFILL_BATCH }, (_, i) => ({
				truck_id: `bf-${w}-${(first + i) % 100}`,
				lat: 52.5,
				lng: 13.4,
				recorded_at: new Date(twoDaysAgo + first + i).toISOString(),
			}));
			const res = await fetch(`${url}/api/v1/location/batch`, {
				method: "POST",
				headers: { ...auth, "content-type": "application/json" },
				body: JSON.stringify({ points }),
			});
			statuses[res.status] = (statuses[res.status] ?? 0) + 1;
			await res.arrayBuffer();
			if (res.status === 202) accepted += BACKFILL_BATCH;
			else await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers.get("retry-after") ?? 1)));
		}
	};
	await Promise.all(Array.from({ length: BACKFILL_WORKERS }, (_, w) => worker(w)));
	return { accepted, statuses };
}
