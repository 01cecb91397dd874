// End-to-end jobs throughput: N noop jobs enqueued through POST /api/v1/jobs/bulk (100 per request,
// a few requests in flight), run by the real queue consumer, completed in D1. Figures: jobs/s from
// the first enqueue to the last completion, p50/p99 enqueue-to-complete latency (completed_at -
// created_at from D1). The BullMQ figure (11-12k jobs/s, FACTS.md) is a recorded peer figure from
// this machine, not measured in this run (no Redis is started here).
export const title = "Jobs: N noop jobs, bulk enqueue to completion";

const BULLMQ_RECORDED_JOBS_PER_S = 11_500;

export async function run({ url, admin, platform, log }) {
	const total = Number(process.env.BENCH_JOBS ?? 5_000);
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? 60);
	const inFlight = 4;
	const tenant = await (await admin("POST", "/tenants", { name: "bench-jobs" })).json();
	const headers = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
	const db = await platform.mf.getD1Database("DB");

	const started = Date.now();
	let next = 0;
	let rejected = 0;
	async function producer() {
		while (next < total) {
			const n = Math.min(100, total - next);
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
	log(`enqueued ${total - rejected} jobs in ${enqueuedMs} ms (${rejected} rejected)`);

	let done = 0;
	while (Date.now() - started < maxSeconds * 1000) {
		done = (
			await db
				.prepare("SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ? AND status = 'completed'")
				.bind(tenant.tenant_id)
				.first()
		).n;
		if (done >= total - rejected) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	const { results } = await db
		.prepare(
			"SELECT completed_at - created_at AS ms, completed_at FROM jobs WHERE tenant_id = ? AND status = 'completed'",
		)
		.bind(tenant.tenant_id)
		.all();
	const lat = results.map((r) => r.ms).sort((a, b) => a - b);
	const lastDone = Math.max(...results.map((r) => r.completed_at));
	const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] ?? null;
	const seconds = (lastDone - started) / 1000;
	const jobsPerS = results.length / seconds;
	const figures = {
		jobs: total,
		completed: results.length,
		rejected,
		enqueue_jobs_per_s: Math.round(((total - rejected) / enqueuedMs) * 1000),
		end_to_end_jobs_per_s: Math.round(jobsPerS),
		latency_p50_ms: pct(50),
		latency_p99_ms: pct(99),
		bullmq_recorded_jobs_per_s: BULLMQ_RECORDED_JOBS_PER_S,
		ratio_vs_bullmq_recorded: Number((jobsPerS / BULLMQ_RECORDED_JOBS_PER_S).toFixed(3)),
		note: "ratio is against BullMQ's recorded figure on this machine (FACTS.md), not measured in the same run; local Queues deliver one batch at a time",
	};
	log(JSON.stringify(figures, null, 2));
	return figures;
}
