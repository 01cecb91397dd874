// Cache service (issue 16, part 2): GET of keys that are present (hits, mostly served by the
// isolate's L1 or one CacheShard object) against the same route shape without the cache call
// (GET /api/v1/whoami: tenant auth, limiter, JSON answer), alternated in rounds in one run.
// cache_hit_ratio = cache GET req/s / baseline req/s (goal >= 0.8); hit_fraction checks the
// answers really were hits; l1_share is the part of the measured GETs the isolate's L1 answered
// (from GET /metrics: the cache_l1 lookups that hit, over the requests sent).
import { drive, fmt } from "../lib/load.mjs";
import { ADMIN_TOKEN } from "../lib/platform.mjs";
import { unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "Cache: GET hit vs the same route without the cache call";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEYS = Number(process.env.BENCH_CACHE_KEYS ?? 1_000);

export async function run({ url, admin, log }) {
	const { headers } = await unlimitedTenant(admin, "bench-cache");
	// Prefill, 8 PUTs in flight.
	let filled = 0;
	await Promise.all(
		Array.from({ length: 8 }, async () => {
			while (filled < KEYS) {
				const i = filled++;
				const res = await fetch(`${url}/api/v1/cache/bench/k${i}`, {
					method: "PUT",
					headers,
					body: JSON.stringify({ value: { n: i, text: "x".repeat(200) }, ttl: 3_600 }),
				});
				if (res.status !== 200) throw new Error(`put k${i}: ${res.status} ${await res.text()}`);
			}
		}),
	);
	let n = 0;
	const cacheGet = (duration) =>
		drive({
			url: `${url}/api/v1/cache/bench/k0`,
			headers,
			connections: CONNECTIONS,
			duration,
			setupRequest: (req) => ({ ...req, path: `/api/v1/cache/bench/k${n++ % KEYS}` }),
		});
	const baseline = (duration) => drive({ url: `${url}/api/v1/whoami`, headers, connections: CONNECTIONS, duration });
	await cacheGet(3);
	await baseline(3);
	const hits = [];
	const plain = [];
	let l1Hits = 0;
	let cacheRequests = 0;
	for (let round = 0; round < ROUNDS; round++) {
		plain.push(await baseline(SECONDS / 2));
		const before = await l1HitCount(url);
		const measured = await cacheGet(SECONDS / 2);
		l1Hits += (await l1HitCount(url)) - before;
		cacheRequests += measured.total;
		hits.push(measured);
	}
	const avg = (runs, f) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
	const hitRps = avg(hits, (r) => r.rps);
	const plainRps = avg(plain, (r) => r.rps);
	const ratio = hitRps / plainRps;
	// A sample of answers: each must say hit: true.
	let sampled = 0;
	let hit = 0;
	let fromL1 = 0;
	for (let i = 0; i < 200; i++) {
		const body = await (await fetch(`${url}/api/v1/cache/bench/k${(i * 7) % KEYS}`, { headers })).json();
		sampled++;
		if (body.hit === true) hit++;
		if (body.source === "l1") fromL1++;
	}
	const p = (runs, k) => Math.max(...runs.map((r) => r[k]));
	log(`baseline (whoami): ${fmt(plainRps)} req/s  p50 ${p(plain, "p50")} ms  p99 ${p(plain, "p99")} ms`);
	log(`cache GET (hit):   ${fmt(hitRps)} req/s  p50 ${p(hits, "p50")} ms  p99 ${p(hits, "p99")} ms`);
	log(`cache_hit_ratio ${fmt(ratio, 2)}   goal >= 0.80;  hit fraction of sampled answers ${fmt(hit / sampled, 2)}`);
	const l1Share = cacheRequests > 0 ? l1Hits / cacheRequests : 0;
	log(`L1 share of the measured GETs ${fmt(l1Share, 2)};  of the sampled answers ${fmt(fromL1 / sampled, 2)}`);
	return {
		figures: {
			cache_hit_ratio: Number(ratio.toFixed(3)),
			cache_hit_p99_ms: p(hits, "p99"),
		},
		connections: CONNECTIONS,
		baseline: { rps: plainRps, p50: p(plain, "p50"), p99: p(plain, "p99") },
		cache_hit: { rps: hitRps, p50: p(hits, "p50"), p99: p(hits, "p99") },
		cache_hit_ratio: Number(ratio.toFixed(3)),
		hit_fraction: Number((hit / sampled).toFixed(3)),
		l1_share: Number(l1Share.toFixed(3)),
	};
}

/** The cache_l1 lookups that hit so far (workerd runs one isolate locally, so one series). */
async function l1HitCount(url) {
	const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
	const line = text
		.split("\n")
		.find(
			(l) =>
				l.startsWith("floodgate_isolate_cache_lookups_total{") &&
				l.includes('cache="cache_l1"') &&
				l.includes('result="hit"'),
		);
	return line ? Number(line.split(" ").at(-1)) : 0;
}
