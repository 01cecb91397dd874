// End-to-end jobs throughput: N noop jobs enqueued through POST /api/v1/jobs/bulk (BENCH_JOBS_BULK per request, default 1,000 as the peer's addBulk chunks,
// a few requests in flight), run by the real queue consumer, completed in D1. Figures: jobs/s from
// the first enqueue to the last completion, p50/p99 enqueue-to-complete latency (completed_at -
// created_at from D1), at each N of the growth curve (5k, 20k; 100k with BENCH_JOBS_LARGE=1, which
// takes minutes), then the peer in the same run: BullMQ (Queue.addBulk + Worker, concurrency 50)
// on a throwaway local redis-server with the same N no-op jobs (bench/lib/bullmq-peer.mjs).
import { runBullmq } from "../lib/bullmq-peer.mjs";
import { fmt } from "../lib/load.mjs";

export const title = "Jobs: N noop jobs, bulk enqueue to completion, against BullMQ in the same run";

/** BullMQ on this machine by hand (FACTS.md), shown as a note when the peer cannot run. */
const BULLMQ_RECORDED_JOBS_PER_S = 9_750;

export async function run({ url, admin, platform, log }) {
	// The N the headline figures (jobs_per_s, jobs_ratio_bullmq) are taken at.
	const main = Number(process.env.BENCH_JOBS ?? 20_000);
	const sizes = (process.env.BENCH_JOBS_SIZES ?? "5000,20000")
		.split(",")
		.map(Number)
		.filter((n) => n > 0);
	if (process.env.BENCH_JOBS_LARGE === "1") sizes.push(100_000);
	if (!sizes.includes(main)) sizes.push(main);
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? 60);

	const curve = [];
	for (const n of [...new Set(sizes)].sort((a, b) => a - b)) {
		const r = await runFloodgate({ url, admin, platform, total: n, maxSeconds: Math.max(maxSeconds, n / 500) });
		curve.push(r);
		log(
			`Floodgate ${fmt(n)} jobs: ${fmt(r.end_to_end_jobs_per_s)} jobs/s end to end, ${r.completed} completed, p50 ${r.latency_p50_ms} ms, p99 ${r.latency_p99_ms} ms`,
		);
	}
	const ours = curve.find((r) => r.jobs === main);
	const peer = await runBullmq(main);
	const measured = peer !== null && peer.skipped === undefined && !peer.timed_out;
	const ratio = measured ? Number((ours.end_to_end_jobs_per_s / peer.jobs_per_s).toFixed(3)) : null;
	if (measured)
		log(`BullMQ ${fmt(main)} jobs: ${fmt(peer.jobs_per_s)} jobs/s → Floodgate / BullMQ = ${ratio}   goal >= 1.5`);
	else
		log(
			`BullMQ not measured: ${peer?.skipped ?? "timed out"}; recorded figure on this machine ~${fmt(BULLMQ_RECORDED_JOBS_PER_S)} jobs/s (FACTS.md), ratio recorded as null`,
		);
	return {
		figures: { jobs_per_s: ours.end_to_end_jobs_per_s, jobs_ratio_bullmq: ratio },
		main_n: main,
		curve,
		bullmq: measured
			? peer
			: {
					measured: false,
					reason: peer?.skipped ?? "timed out",
					note: `recorded by hand on this machine: ~${BULLMQ_RECORDED_JOBS_PER_S} jobs/s (FACTS.md, 9.2-10.3k)`,
				},
	};
}

async function runFloodgate({ url, admin, platform, total, maxSeconds }) {
	const inFlight = 4;
	const perCall = Number(process.env.BENCH_JOBS_BULK ?? 1_000);
	const tenant = await (await admin("POST", "/tenants", { name: `bench-jobs-${total}` })).json();
	const headers = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
	const db = await platform.mf.getD1Database("DB");

	const started = Date.now();
	let next = 0;
	let rejected = 0;
	async function producer() {
		while (next < total) {
			const n = Math.min(perCall, total - next);
			next += n;
			const res = await fetch(`${url}/api/v1/jobs/bulk`, {
				method: "POST",
				headers,
				body: JSON.stringify({ jobs: Array.from({ length: n }, () => ({ type: "noop" })) }),
			});
			if (res.status !== 202) rejected += n;
			await res.arrayBuffer();
		}
	}
	await Promise.all(Array.from({ length: inFlight }, producer));
	const enqueuedMs = Date.now() - started;

	while (Date.now() - started < maxSeconds * 1000) {
		const { n } = await db
			.prepare("SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ? AND status = 'completed'")
			.bind(tenant.tenant_id)
			.first();
		if (n >= total - rejected) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	const { results } = await db
		.prepare(
			"SELECT completed_at - created_at AS ms, completed_at FROM jobs WHERE tenant_id = ? AND status = 'completed'",
		)
		.bind(tenant.tenant_id)
		.all();
	const lat = results.map((r) => r.ms).sort((a, b) => a - b);
	let lastDone = 0;
	for (const r of results) lastDone = Math.max(lastDone, r.completed_at);
	const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] ?? null;
	const seconds = Math.max(0.001, (lastDone - started) / 1000);
	return {
		jobs: total,
		completed: results.length,
		// Correctness: every accepted job completed exactly once (a row per job, status completed).
		all_completed: results.length === total - rejected,
		rejected,
		enqueue_jobs_per_s: Math.round(((total - rejected) / enqueuedMs) * 1000),
		end_to_end_jobs_per_s: Math.round(results.length / seconds),
		latency_p50_ms: pct(50),
		latency_p99_ms: pct(99),
	};
}
