// Gateway rate limiting: the same authenticated route (GET /api/v1/whoami) for a tenant with no
// limits and for a tenant with three policies on two limited keys (tenant: token bucket + daily
// window; API key: sliding window), measured in paired rounds (ABBA) in one run; then an exactness check:
// a flood against a limit of 1,000 must admit exactly 1,000.
import { drive, fmt } from "../lib/load.mjs";
import { rateLimitPeerMissing, startRateLimitPeer } from "../lib/ratelimit-peer.mjs";
import { median, pairedRounds } from "../lib/rounds.mjs";

export const title = "Gateway: authenticated route with and without the rate limiter";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

export const HIGH_LIMITS = [
	{
		name: "tenant-burst",
		scope: "tenant",
		algorithm: "token_bucket",
		limit: 200_000,
		window_seconds: 1,
		burst: 400_000,
	},
	{ name: "tenant-daily", scope: "tenant", algorithm: "fixed_window", limit: 1_000_000_000, window_seconds: 86_400 },
	{ name: "key-minute", scope: "api_key", algorithm: "sliding_window", limit: 100_000_000, window_seconds: 60 },
];

async function tenantWith(admin, name, rules) {
	const created = await (await admin("POST", "/tenants", { name })).json();
	const res = await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules });
	if (res.status !== 200) throw new Error(`limits: ${res.status} ${await res.text()}`);
	return created.api_key;
}

/** Express + express-rate-limit + rate-limit-redis, with / without its limiter, in the same paired rounds as ours. */
async function measurePeer(root, log) {
	const missing = await rateLimitPeerMissing();
	if (missing !== null) {
		log(`rate-limit peer skipped: ${missing}`);
		return { skipped: missing };
	}
	const peer = await startRateLimitPeer(root);
	try {
		const go = (target, duration) => drive({ url: target, connections: CONNECTIONS, duration });
		await go(peer.open, 2);
		await go(peer.limited, 2);
		const {
			ratios,
			baseline: open,
			subject: limited,
		} = await pairedRounds({
			rounds: ROUNDS,
			seconds: SECONDS,
			baseline: (d) => go(peer.open, d),
			subject: (d) => go(peer.limited, d),
		});
		const mean = (runs) => runs.reduce((s, r) => s + r.rps, 0) / runs.length;
		const refused = limited.reduce((s, r) => s + (r.statuses[429] ?? 0), 0);
		log(
			`peer (Express + express-rate-limit + rate-limit-redis): without ${fmt(mean(open))} req/s, with ${fmt(mean(limited))} req/s → ratio median ${fmt(median(ratios), 2)} (rounds ${ratios.map((r) => fmt(r, 2)).join(" ")}), ${refused} refused`,
		);
		return {
			without_rps: mean(open),
			with_rps: mean(limited),
			median_round_ratio: Number(median(ratios).toFixed(3)),
			round_ratios: ratios.map((r) => Number(r.toFixed(3))),
			refused,
		};
	} finally {
		await peer.stop();
	}
}

export async function run({ url, admin, log, root }) {
	const plainKey = await tenantWith(admin, "bench-unlimited", []);
	const limitedKey = await tenantWith(admin, "bench-limited", HIGH_LIMITS);
	const whoami = (key, duration) =>
		drive({
			url: `${url}/api/v1/whoami`,
			headers: { authorization: `Bearer ${key}` },
			connections: CONNECTIONS,
			duration,
		});

	// Warm-up: JIT, D1 key lookups, leases grown to the traffic.
	await whoami(plainKey, 4);
	await whoami(limitedKey, 4);
	// Paired ABBA rounds, so drift on a shared machine hits both sides alike (lib/rounds.mjs).
	const {
		ratios: roundRatios,
		baseline: plain,
		subject: limited,
	} = await pairedRounds({
		rounds: ROUNDS,
		seconds: SECONDS,
		baseline: (d) => whoami(plainKey, d),
		subject: (d) => whoami(limitedKey, d),
	});
	const medianRatio = median(roundRatios);
	const merge = (runs) => ({
		rps: runs.reduce((s, r) => s + r.rps, 0) / runs.length,
		p50: Math.max(...runs.map((r) => r.p50)),
		p99: Math.max(...runs.map((r) => r.p99)),
		total: runs.reduce((s, r) => s + r.total, 0),
		non2xx: runs.reduce(
			(s, r) =>
				s +
				Object.entries(r.statuses)
					.filter(([k]) => k !== "200")
					.reduce((a, [, v]) => a + v, 0),
			0,
		),
	});
	const a = merge(plain);
	const b = merge(limited);
	const ratio = b.rps / a.rps;

	// Exactness: a fixed window of 1,000 per hour, flooded by all connections for 3 s.
	const exactKey = await tenantWith(admin, "bench-exact", [
		{ name: "hourly", scope: "tenant", algorithm: "fixed_window", limit: 1000, window_seconds: 3600 },
	]);
	const flood = await whoami(exactKey, 3);
	const admittedCount = flood.statuses[200] ?? 0;

	log(
		`without limiter: ${fmt(a.rps)} req/s  p50 ${a.p50} ms  p99 ${a.p99} ms  (${fmt(a.total)} requests, ${a.non2xx} non-2xx)`,
	);
	log(
		`with limiter:    ${fmt(b.rps)} req/s  p50 ${b.p50} ms  p99 ${b.p99} ms  (${fmt(b.total)} requests, ${b.non2xx} non-2xx)`,
	);
	log(
		`ratio (with / without): ${fmt(ratio, 2)} over all rounds; in round order ${roundRatios.map((r) => fmt(r, 2)).join(" ")} (median ${fmt(medianRatio, 2)})   goal: median >= 0.90, no round under 0.85`,
	);
	const peer = await measurePeer(root, log);
	log(
		`exactness: limit 1,000, ${fmt(flood.total)} requests in 3 s → ${fmt(admittedCount)} admitted, ${fmt(flood.statuses[429] ?? 0)} × 429`,
	);
	return {
		figures: {
			gateway_ratio: Number(medianRatio.toFixed(3)),
			gateway_min_round: Number(Math.min(...roundRatios).toFixed(3)),
			gateway_peer_ratio: peer.skipped === undefined ? peer.median_round_ratio : null,
		},
		peer,
		connections: CONNECTIONS,
		seconds_per_side: SECONDS,
		without_limiter: a,
		with_limiter: b,
		ratio: Number(ratio.toFixed(3)),
		round_ratios: roundRatios.map((r) => Number(r.toFixed(3))),
		median_round_ratio: Number(medianRatio.toFixed(3)),
		exactness: { limit: 1000, requests: flood.total, admitted: admittedCount, rejected: flood.statuses[429] ?? 0 },
	};
}
