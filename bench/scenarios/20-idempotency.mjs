// The idempotency middleware's cost on a POST route: POST /api/v1/echo without a key (the
// baseline: the middleware steps aside) and with a fresh key per request (a row in one of the
// tenant's IdempotencyShard objects: begin + complete) in BENCH_ROUNDS (4) paired ABBA rounds of
// BENCH_SECONDS (8) per side, the figure being the median round; replays of completed keys (served from
// the isolate's replay cache or the shard). Then the distinct-keys run: BENCH_IDEMPOTENCY_KEYS
// (default 1,000,000) fresh keys in BENCH_IDEMPOTENCY_SEGMENTS segments, p50/p99 per segment (flat
// latency = the last segment's p99 close to the first's), and how many were created before the
// first error. Gateway limits are switched off for the tenant so only this is measured.
import { drive, fmt } from "../lib/load.mjs";
import { median, pairedRounds } from "../lib/rounds.mjs";

export const title = "Idempotency-Key on a POST route: without, fresh keys, replays, distinct keys";

// A fresh benchmark platform has no keys from before the shards: the legacy read-through (one
// extra object call per fresh key while IDEMPOTENCY_LEGACY_UNTIL lies ahead) is switched off.
export const vars = {
	IDEMPOTENCY_LEGACY_UNTIL: "",
	...(process.env.BENCH_IDEMPOTENCY_SHARDS ? { IDEMPOTENCY_SHARDS: process.env.BENCH_IDEMPOTENCY_SHARDS } : {}),
};

const REPLAY_KEYS = 256;

export async function run({ url, admin, log }) {
	const seconds = Number(process.env.BENCH_SECONDS ?? 8);
	const created = await admin("POST", "/tenants", { name: "bench-idempotency" });
	if (created.status !== 201) throw new Error(`tenant creation failed: ${created.status}`);
	const { tenant_id: tenantId, api_key: apiKey } = await created.json();
	const limits = await admin("PUT", `/tenants/${tenantId}/limits`, { rules: [] });
	if (limits.status !== 200) throw new Error(`limits failed: ${limits.status}`);

	const target = `${url}/api/v1/echo`;
	const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
	const body = JSON.stringify({ machine_id: "vm-bench", slot: "A1", quantity: 1 });

	// Keys to replay: each completed once before the replay phase.
	const replayKeys = Array.from({ length: REPLAY_KEYS }, (_, i) => `replay-${i}-${Date.now()}`);
	for (const key of replayKeys) {
		const res = await fetch(target, { method: "POST", headers: { ...headers, "idempotency-key": key }, body });
		if (res.status !== 201) throw new Error(`priming replay key failed: ${res.status}`);
	}

	const phase = async (name, setupRequest) => {
		const result = await drive({ url: target, method: "POST", headers, body, duration: seconds, setupRequest });
		log(
			`${name.padEnd(12)} ${fmt(result.rps)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  statuses ${JSON.stringify(result.statuses)}`,
		);
		return result;
	};

	// Without a key and with a fresh key per request, in paired ABBA rounds (lib/rounds.mjs): one
	// phase of each read 0.55 and 0.41 in two runs of the same code an hour apart.
	let fresh = 0;
	const freshKey = (req) => ({
		...req,
		headers: { ...req.headers, "idempotency-key": `fresh-${process.pid}-${fresh++}` },
	});
	const rounds = await pairedRounds({
		rounds: Number(process.env.BENCH_ROUNDS ?? 4),
		seconds,
		baseline: (d) => drive({ url: target, method: "POST", headers, body, duration: d }),
		subject: (d) => drive({ url: target, method: "POST", headers, body, duration: d, setupRequest: freshKey }),
	});
	const without = merged(rounds.baseline);
	const withFresh = merged(rounds.subject);
	const freshRatio = median(rounds.ratios);
	log(
		`${"without key".padEnd(12)} ${fmt(without.rps)} req/s  p50 ${without.p50} ms  p99 ${without.p99} ms  statuses ${JSON.stringify(without.statuses)}`,
	);
	log(
		`${"fresh keys".padEnd(12)} ${fmt(withFresh.rps)} req/s  p50 ${withFresh.p50} ms  p99 ${withFresh.p99} ms  statuses ${JSON.stringify(withFresh.statuses)}`,
	);
	log(`fresh/without by round (ABBA): ${rounds.ratios.map((r) => fmt(r, 2)).join(" ")} (median ${fmt(freshRatio, 2)})`);
	let replay = 0;
	const withReplay = await phase("replays", (req) => ({
		...req,
		headers: { ...req.headers, "idempotency-key": replayKeys[replay++ % REPLAY_KEYS] },
	}));

	const figures = {
		seconds_per_phase: seconds,
		without_rps: Math.round(without.rps),
		without_p99_ms: without.p99,
		fresh_rps: Math.round(withFresh.rps),
		fresh_p99_ms: withFresh.p99,
		replay_rps: Math.round(withReplay.rps),
		replay_p99_ms: withReplay.p99,
		fresh_ratio: round(freshRatio),
		fresh_round_ratios: rounds.ratios.map(round),
		replay_ratio: round(withReplay.rps / without.rps),
		replay_over_fresh: round(withReplay.rps / withFresh.rps),
		fresh_p99_ratio: round(withFresh.p99 / Math.max(1, without.p99)),
		replay_p99_ratio: round(withReplay.p99 / Math.max(1, without.p99)),
		non_2xx: {
			without: countNon2xx(without.statuses),
			fresh: countNon2xx(withFresh.statuses),
			replay: countNon2xx(withReplay.statuses),
		},
	};
	log(
		`fresh/without ${figures.fresh_ratio}  replay/without ${figures.replay_ratio}  replay/fresh ${figures.replay_over_fresh}`,
	);
	const distinct = await distinctKeys({ target, headers, body, log });
	return {
		figures: {
			idempotency_fresh_ratio: figures.fresh_ratio,
			idempotency_replay_ratio: figures.replay_ratio,
			idempotency_distinct_keys: distinct.created_without_error,
		},
		...figures,
		distinct_keys: distinct,
	};
}

/**
 * Creates `BENCH_IDEMPOTENCY_KEYS` fresh keys (each request a new key, 64 connections) in
 * segments; stops at the first segment with any answer other than 201. `created_without_error`
 * counts the 201s up to and including that segment (all of them when no error came).
 */
async function distinctKeys({ target, headers, body, log }) {
	const total = Number(process.env.BENCH_IDEMPOTENCY_KEYS ?? 1_000_000);
	const segments = Math.max(1, Number(process.env.BENCH_IDEMPOTENCY_SEGMENTS ?? 10));
	const perSegment = Math.ceil(total / segments);
	let n = 0;
	let created = 0;
	let firstError = null;
	const curve = [];
	const started = Date.now();
	for (let s = 0; s < segments; s++) {
		const amount = Math.min(perSegment, total - s * perSegment);
		if (amount <= 0) break;
		const result = await drive({
			url: target,
			method: "POST",
			headers,
			body,
			amount,
			duration: 3600,
			setupRequest: (req) => ({
				...req,
				headers: { ...req.headers, "idempotency-key": `distinct-${process.pid}-${n++}` },
			}),
		});
		const ok = result.statuses[201] ?? 0;
		created += ok;
		curve.push({ keys_so_far: created, rps: Math.round(result.rps), p50: result.p50, p99: result.p99 });
		log(
			`distinct keys ${fmt(created)}: ${fmt(result.rps)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  statuses ${JSON.stringify(result.statuses)}`,
		);
		if (ok !== amount || result.errors > 0) {
			firstError = { segment: s, statuses: result.statuses, errors: result.errors };
			break;
		}
	}
	const seconds = (Date.now() - started) / 1000;
	log(`distinct keys: ${fmt(created)} of ${fmt(total)} created without an error in ${fmt(seconds)} s`);
	return { requested: total, created_without_error: created, seconds, first_error: firstError, curve };
}

function round(n) {
	return Math.round(n * 100) / 100;
}

function countNon2xx(statuses) {
	return Object.entries(statuses).reduce((n, [status, count]) => (status.startsWith("2") ? n : n + count), 0);
}

/** Phases of one side taken together: mean req/s, the worst p50/p99, statuses summed. */
function merged(runs) {
	const statuses = {};
	for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
	return {
		rps: runs.reduce((s, r) => s + r.rps, 0) / runs.length,
		p50: Math.max(...runs.map((r) => r.p50)),
		p99: Math.max(...runs.map((r) => r.p99)),
		statuses,
	};
}
