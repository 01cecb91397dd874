// Analytics reports (issue 14): a truck_distance report over REPORT_POINTS telemetry points
// (default 500,000; REPORT_POINTS=5000000 for the big run), computed by the long lane in daily
// chunks with a checkpoint per step. Points are written straight into local D1 (the rows the
// telemetry consumer writes, in 20,000-row INSERT … SELECT statements): ingest is measured by the
// 30-ingest scenario, this one measures the report. 100 trucks, one point every 20 s, ~0.3 km
// between points. Figures: wall time from the POST to `completed`, points per second, workerd's
// peak RSS during the run, and a duplicate POST while it runs (same report id, 200, no new row or
// step: its cost is the request's latency).
import { readdirSync, readFileSync } from "node:fs";

export const title = "Reports: truck_distance over N points, wall time, memory, duplicate cost";

const TRUCKS = 100;
const INTERVAL_MS = 20_000;
const ROWS_PER_STATEMENT = 20_000;
const DAY = 86_400_000;

export async function run({ url, admin, platform, log }) {
	const points = Number(process.env.REPORT_POINTS ?? 500_000);
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? 3_600);
	const db = await platform.mf.getD1Database("DB");
	const created = await (await admin("POST", "/tenants", { name: "bench-reports" })).json();
	await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules: [] });
	const headers = { authorization: `Bearer ${created.api_key}`, "content-type": "application/json" };

	// Whole UTC days that end before today (a historical range), oldest first.
	const perTruck = Math.ceil(points / TRUCKS);
	const days = Math.ceil((perTruck * INTERVAL_MS) / DAY);
	const firstDay = Math.floor(Date.now() / DAY) * DAY - (days + 1) * DAY;
	const seedStarted = Date.now();
	await seed(db, created.tenant_id, perTruck, firstDay);
	const seeded = (await db.prepare("SELECT COUNT(*) AS n FROM truck_locations").first()).n;
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

	// The same request again at once, while the report is queued or running (a double click).
	const duplicate = await duplicateRequest(url, headers, body, db, report.report_id);
	let status = report;
	while (Date.now() - started < maxSeconds * 1000) {
		await new Promise((r) => setTimeout(r, 250));
		status = await (await fetch(`${url}/api/v1/reports/${report.report_id}`, { headers })).json();
		if (status.status === "completed" || status.status === "failed") break;
	}
	const wallS = (Date.now() - started) / 1000;
	const peakRssMb = memory.stop();
	if (status.status !== "completed") throw new Error(`report did not complete: ${JSON.stringify(status)}`);

	const result = await (
		await fetch(`${url}/api/v1/reports/${report.report_id}/result?format=json`, { headers })
	).json();
	const counted = result.rows.reduce((n, r) => n + r.points, 0);
	const label = points >= 1_000_000 ? `${points / 1_000_000}m` : `${points / 1_000}k`;
	const figures = {
		points: seeded,
		points_in_result: counted,
		trucks: TRUCKS,
		days,
		chunks: status.chunks_total,
		result_rows: result.rows.length,
		[`reports_truck_distance_s_${label}`]: Number(wallS.toFixed(2)),
		points_per_s: Math.round(seeded / wallS),
		workerd_peak_rss_mb: peakRssMb,
		reports_duplicate_cost_ms: duplicate.ms,
		duplicate_same_id: duplicate.sameId,
		duplicate_status: duplicate.status,
		duplicate_new_rows: duplicate.newRows,
		note: "points seeded straight into local D1; 500k and 5m runs give the scaling (linear = equal points_per_s)",
	};
	if (counted !== seeded) throw new Error(`the report counted ${counted} of ${seeded} points`);
	log(JSON.stringify(figures, null, 2));
	return figures;
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

/** The same POST again while the report runs: it must answer 200 with the same id and add nothing. */
async function duplicateRequest(url, headers, body, db, reportId) {
	const rows = async () => (await db.prepare("SELECT COUNT(*) AS n FROM reports").first()).n;
	const before = await rows();
	const t0 = performance.now();
	const res = await fetch(`${url}/api/v1/reports`, { method: "POST", headers, body });
	const again = await res.json();
	const ms = performance.now() - t0;
	return {
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
