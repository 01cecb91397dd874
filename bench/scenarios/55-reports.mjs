// Analytics reports (issue 14): a truck_distance report over REPORT_POINTS telemetry points,
// computed by the long lane in daily chunks with a checkpoint per step. REPORT_POINTS is one size or
// a comma-separated list (default "500000,5000000": the 500k → 5M scaling); each size runs
// for a tenant of its own, smallest first. Points are written straight into local D1 (the rows the
// telemetry consumer writes, in 20,000-row INSERT … SELECT statements): ingest is measured by the
// 30-ingest scenario, this one measures the report. 100 trucks, one point every 20 s, ~0.3 km
// between points. Figures per size: wall time from the POST to `completed`, points per second,
// workerd's peak RSS during that run, and a duplicate POST sent once the report is running (same
// report id, 200, no new report row, nothing enqueued: its cost is the request's latency). Across
// sizes: reports_scaling_ratio = (wall time ratio) / (points ratio) between the largest and the
// smallest size (1 = linear, below 1 = better than linear).
import { readdirSync, readFileSync } from "node:fs";

export const title = "Reports: truck_distance over N points, wall time, memory, scaling, duplicate cost";

const TRUCKS = 100;
const INTERVAL_MS = 20_000;
const ROWS_PER_STATEMENT = 20_000;
const DAY = 86_400_000;

export async function run({ url, admin, platform, log }) {
	const sizes = (process.env.REPORT_POINTS ?? "500000,5000000")
		.split(",")
		.map((v) => Number(v.trim()))
		.filter((n) => Number.isInteger(n) && n > 0)
		.sort((a, b) => a - b);
	if (sizes.length === 0) throw new Error("REPORT_POINTS: one or more positive integers, comma-separated");
	const figures = {};
	const runs = [];
	for (const points of sizes) {
		const one = await measure({ url, admin, platform, log }, points);
		runs.push(one);
		const label = points >= 1_000_000 ? `${points / 1_000_000}m` : `${points / 1_000}k`;
		figures[`reports_truck_distance_s_${label}`] = one.wall_s;
		figures[`reports_points_per_s_${label}`] = one.points_per_s;
		figures[`reports_peak_rss_mb_${label}`] = one.workerd_peak_rss_mb;
		figures[`reports_duplicate_cost_ms_${label}`] = one.duplicate.ms;
	}
	const small = runs[0];
	const large = runs.at(-1);
	if (runs.length > 1) {
		figures.reports_scaling_ratio = Number((large.wall_s / small.wall_s / (large.points / small.points)).toFixed(3));
	}
	figures.reports_duplicate_cost_ms = Math.max(...runs.map((r) => r.duplicate.ms));
	figures.reports_duplicate_free = runs.every(
		(r) => r.duplicate.sameId && r.duplicate.status === 200 && r.duplicate.newRows === 0,
	);
	const note =
		"points seeded straight into local D1; reports_scaling_ratio = (wall ratio) / (points ratio), largest vs smallest size (<= 1: linear or better)";
	log(JSON.stringify({ runs, figures }, null, 2));
	return { runs, note, figures };
}

async function measure({ url, admin, platform, log }, points) {
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? 3_600);
	const db = await platform.mf.getD1Database("DB");
	const created = await (await admin("POST", "/tenants", { name: `bench-reports-${points}` })).json();
	await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules: [] });
	const headers = { authorization: `Bearer ${created.api_key}`, "content-type": "application/json" };

	// Whole UTC days that end before today (a historical range), oldest first.
	const perTruck = Math.ceil(points / TRUCKS);
	const days = Math.ceil((perTruck * INTERVAL_MS) / DAY);
	const firstDay = Math.floor(Date.now() / DAY) * DAY - (days + 1) * DAY;
	const seedStarted = Date.now();
	await seed(db, created.tenant_id, perTruck, firstDay);
	const seeded = (
		await db.prepare("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?").bind(created.tenant_id).first()
	).n;
	log(`seeded ${seeded} points (${TRUCKS} trucks, ${days} days) in ${Date.now() - seedStarted} ms`);

	const body = JSON.stringify({
		type: "truck_distance",
		params: { from: isoDay(firstDay), to: isoDay(firstDay + (days - 1) * DAY) },
	});
	const memory = sampleWorkerdMemory();
	const started = Date.now();
	const first = await fetch(`${url}/api/v1/reports`, { method: "POST", headers, body });
	const report = await first.json();
	if (first.status !== 202) throw new Error(`report not accepted: ${first.status} ${JSON.stringify(report)}`);

	let status = report;
	let duplicate = null;
	while (Date.now() - started < maxSeconds * 1000) {
		await new Promise((r) => setTimeout(r, 250));
		status = await (await fetch(`${url}/api/v1/reports/${report.report_id}`, { headers })).json();
		// The same request again once the report is running (a refresh while the spinner turns).
		if (duplicate === null && (status.status === "running" || status.status === "completed"))
			duplicate = await duplicateRequest(url, headers, body, db, report.report_id, status.status);
		if (status.status === "completed" || status.status === "failed") break;
	}
	const wallS = (Date.now() - started) / 1000;
	const peakRssMb = memory.stop();
	if (status.status !== "completed") throw new Error(`report did not complete: ${JSON.stringify(status)}`);

	const result = await (
		await fetch(`${url}/api/v1/reports/${report.report_id}/result?format=json`, { headers })
	).json();
	const counted = result.rows.reduce((n, r) => n + r.points, 0);
	if (counted !== seeded) throw new Error(`the report counted ${counted} of ${seeded} points`);
	const one = {
		points: seeded,
		trucks: TRUCKS,
		days,
		chunks: status.chunks_total,
		result_rows: result.rows.length,
		wall_s: Number(wallS.toFixed(2)),
		points_per_s: Math.round(seeded / wallS),
		workerd_peak_rss_mb: peakRssMb,
		duplicate,
	};
	log(JSON.stringify(one));
	return one;
}

async function seed(db, tenantId, perTruck, firstDay) {
	const now = Date.now();
	const statements = [];
	for (let t = 0; t < TRUCKS; t++) {
		const truck = `truck-${String(t).padStart(3, "0")}`;
		statements.push(
			db
				.prepare(
					"INSERT INTO truck_positions (tenant_id, truck_id, recorded_at, lat, lng, received_at) VALUES (?, ?, ?, 50, 10, ?)",
				)
				.bind(tenantId, truck, firstDay, now),
		);
		for (let from = 0; from < perTruck; from += ROWS_PER_STATEMENT) {
			const n = Math.min(ROWS_PER_STATEMENT, perTruck - from);
			// A zigzag north and back (0.003° ≈ 0.33 km per point, ~60 km/h), so distance is non-trivial.
			statements.push(
				db
					.prepare(
						`WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
 INSERT INTO truck_locations (tenant_id, truck_id, recorded_at, lat, lng, speed_kmh, received_at)
 SELECT ?, ?, ? + i * ?, 50 + 0.003 * ABS((i % 2000) - 1000), 10 + ? * 0.01, 60, ? FROM n`,
					)
					.bind(from, from + n - 1, tenantId, truck, firstDay, INTERVAL_MS, t, now),
			);
		}
	}
	for (let i = 0; i < statements.length; i += 20) await db.batch(statements.slice(i, i + 20));
}

/**
 * The same POST again while the report runs: it must answer 200 with the same id and add no
 * report row (the route enqueues nothing for a report that has started: src/reports/routes.ts).
 */
async function duplicateRequest(url, headers, body, db, reportId, during) {
	const rows = async () => (await db.prepare("SELECT COUNT(*) AS n FROM reports").first()).n;
	const before = await rows();
	const t0 = performance.now();
	const res = await fetch(`${url}/api/v1/reports`, { method: "POST", headers, body });
	const again = await res.json();
	const ms = performance.now() - t0;
	return {
		during,
		ms: Number(ms.toFixed(1)),
		sameId: again.report_id === reportId,
		status: res.status,
		newRows: (await rows()) - before,
	};
}

/** Polls the RSS of this process's workerd children every 500 ms; stop() returns the peak in MB. */
function sampleWorkerdMemory() {
	let peak = 0;
	const read = () => {
		let total = 0;
		for (const pid of workerdPids()) {
			try {
				const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
				total += match ? Number(match[1]) : 0;
			} catch {
				// The process ended between listing and reading.
			}
		}
		peak = Math.max(peak, total);
	};
	read();
	const timer = setInterval(read, 500);
	return {
		stop: () => {
			clearInterval(timer);
			read();
			return Math.round(peak / 1024);
		},
	};
}

function workerdPids() {
	try {
		return readdirSync("/proc")
			.filter((p) => /^\d+$/.test(p))
			.filter((p) => {
				try {
					const stat = readFileSync(`/proc/${p}/stat`, "utf8");
					const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
					return ppid === process.pid && stat.includes("(workerd)");
				} catch {
					return false;
				}
			});
	} catch {
		return [];
	}
}

function isoDay(ms) {
	return new Date(ms).toISOString().slice(0, 10);
}
