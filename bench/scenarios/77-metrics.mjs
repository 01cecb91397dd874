// Metrics ingest (issue 16, part 3): samples per second from POST /api/v1/metrics (1,000 samples a
// request over 200 series, a few requests in flight) through the floodgate-metrics queue until
// every sample is rolled up (metric_samples.rolled = 1 in D1): the end-to-end rate, not just accepted.
import { fmt } from "../lib/load.mjs";
import { unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "Metrics: samples per second into rollups";

const TOTAL = Number(process.env.BENCH_SAMPLES ?? 100_000);
const IN_FLIGHT = 4;
const PER_REQUEST = 1_000;
const SERIES = 200;
const DRAIN_TIMEOUT_MS = 180_000;

export async function run({ url, admin, platform, log }) {
	const { tenantId, headers } = await unlimitedTenant(admin, "bench-metrics");
	const db = await platform.mf.getD1Database("DB");
	const started = Date.now();
	let next = 0;
	let rejected = 0;
	async function producer() {
		while (next < TOTAL) {
			const n = Math.min(PER_REQUEST, TOTAL - next);
			const base = next;
			next += n;
			const samples = Array.from({ length: n }, (_, i) => ({
				name: "bench_requests_total",
				type: "counter",
				labels: { shard: String((base + i) % SERIES) },
				value: base + i,
				timestamp: started - 60_000 + Math.floor((base + i) / SERIES),
			}));
			const res = await fetch(`${url}/api/v1/metrics`, { method: "POST", headers, body: JSON.stringify({ samples }) });
			if (res.status !== 202) rejected += n;
			await res.arrayBuffer();
		}
	}
	await Promise.all(Array.from({ length: IN_FLIGHT }, producer));
	const acceptedMs = Date.now() - started;
	const accepted = TOTAL - rejected;
	let rolled = 0;
	while (Date.now() - started < DRAIN_TIMEOUT_MS) {
		const row = await db
			.prepare("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ? AND rolled = 1")
			.bind(tenantId)
			.first();
		rolled = row?.n ?? 0;
		if (rolled >= accepted) break;
		await new Promise((r) => setTimeout(r, 250));
	}
	const totalMs = Date.now() - started;
	const acceptedPerS = accepted / (acceptedMs / 1000);
	const rolledPerS = rolled / (totalMs / 1000);
	log(`accepted ${fmt(accepted)} samples in ${fmt(acceptedMs)} ms (${fmt(acceptedPerS)}/s, ${fmt(rejected)} rejected)`);
	log(`rolled up ${fmt(rolled)} of them in ${fmt(totalMs)} ms: ${fmt(rolledPerS)} samples/s end to end`);
	return {
		figures: { metrics_accepted_per_s: Math.round(acceptedPerS), metrics_rolled_per_s: Math.round(rolledPerS) },
		samples: TOTAL,
		accepted,
		rolled,
		accepted_per_s: Math.round(acceptedPerS),
		rolled_per_s: Math.round(rolledPerS),
		drained: rolled >= accepted,
	};
}
