// `npm run simulate`: a fleet of vending machines (SIM_MACHINES, default 100,000) in 16 time zones
// reports one night against the local platform (Miniflare/workerd on 127.0.0.1), through the
// device client with device tokens, in compressed time. Four runs, each on its own tenant and the
// same night: with slots and without (everyone at local midnight), each clean and with
// SIM_FAILURE_RATE (20%) of attempts failing transiently. Prints the figures, writes
// bench/results/fleet-histogram.json, and exits non-zero if any machine-night is lost or duplicated.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, startPlatform } from "./lib/platform.mjs";
import { importTs } from "./sim/bundle.mjs";
import { buildFleet, buildReport, ZONES } from "./sim/fleet.mjs";
import { histogramRows, peakToMean, zonePeakToMean } from "./sim/histogram.mjs";
import { mergeResults } from "./lib/results.mjs";
import { scheduleOnly, shapeOf, zoneRanks } from "./sim/schedule.mjs";
import { runNight } from "./sim/run-night.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.SIM_MACHINES ?? 100_000);
const CONCURRENCY = Number(process.env.SIM_CONCURRENCY ?? 128);
const COMPRESSION = Number(process.env.SIM_COMPRESSION ?? 600);
const FAILURE_RATE = Number(process.env.SIM_FAILURE_RATE ?? 0.2);
const WINDOW_MINUTES = Number(process.env.SIM_WINDOW_MINUTES ?? 120);
const MAX_SECONDS = Number(process.env.SIM_MAX_SECONDS ?? 3600);
const DRAIN_TIMEOUT_MS = 120_000;
// The night whose reports are simulated: the local date two days before today (UTC), so every
// report_date is in the past for the platform's validation.
const NIGHT = process.env.SIM_NIGHT ?? new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
const port = Number(process.env.BENCH_PORT ?? 8813);

// The run must stop by itself, whatever happens.
const deadline = setTimeout(() => {
	console.error(`simulation exceeded SIM_MAX_SECONDS=${MAX_SECONDS}; aborting`);
	process.exit(3);
}, MAX_SECONDS * 1000);

const client = await importTs(root, "client/device-client.ts");
const outbox = await importTs(root, "client/outbox.ts");
const slots = await importTs(root, "src/devices/slots/domain.ts");
const fleetShape = await importTs(root, "src/devices/slots/fleet-shape.ts");
const window = { startMinute: 0, durationMinutes: WINDOW_MINUTES };

// Surge at three fleet sizes from the slot function alone (cheap: no platform). SIM_SCHEDULE_ONLY=1
// stops here; the figures surge_peak_mean_1k/10k/100k are merged into bench/results/latest.json.
const surge = {};
for (const [name, n] of [
	["1k", 1_000],
	["10k", 10_000],
	["100k", 100_000],
]) {
	const s = scheduleOnly({ n, slots, fleetShape, window, night: NIGHT });
	surge[name] = s;
	console.log(
		`schedule only, ${fmtInt(n)} machines: peak ${s.with_slots.peak}/min, mean ${s.with_slots.mean}/min over ${s.active_minutes} minutes → peak:mean ${s.with_slots.ratio} with slots (${s.without_slots.ratio} without)   goal <= 1.3`,
	);
}
mergeResults(root, "45-surge.mjs", {
	details: Object.fromEntries(Object.entries(surge).map(([k, v]) => [k, { ...v, histogram: undefined }])),
	figures: {
		surge_peak_mean_1k: surge["1k"].with_slots.ratio,
		surge_peak_mean_10k: surge["10k"].with_slots.ratio,
		surge_peak_mean_100k: surge["100k"].with_slots.ratio,
	},
});
if (process.env.SIM_SCHEDULE_ONLY === "1") {
	clearTimeout(deadline);
	process.exit(0);
}

const fleet = buildFleet(N);
// The platform places machines by rank in their zone through the fleet's whole-device plan
// (src/devices/slots/fleet-plan.ts); the simulator computes the same from the same fleet, and
// checks a sample against the API.
const ranks = zoneRanks(fleet);
const shape = shapeOf(fleetShape, fleet, window, NIGHT);
console.log(
	`fleet: ${N} machines in ${ZONES.length} time zones; night ${NIGHT}; window 00:00 + ${WINDOW_MINUTES} min; concurrency ${CONCURRENCY}; failure rate ${FAILURE_RATE}`,
);

const platform = await startPlatform({ root, port, vars: { TELEMETRY_MAX_BACKLOG: "1000000" } });
const failures = [];
const runs = {};
try {
	const db = await platform.mf.getD1Database("DB");
	const admin = async (method, p, body) => {
		const res = await fetch(`${platform.url}/api/v1/admin${p}`, {
			method,
			headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		if (!res.ok) throw new Error(`admin ${method} ${p}: ${res.status} ${await res.text()}`);
		return res.json();
	};
	const phases = [
		{ name: "with_slots", slotted: true, failureRate: 0 },
		{ name: "without_slots", slotted: false, failureRate: 0 },
		{ name: "with_slots_faults", slotted: true, failureRate: FAILURE_RATE },
		{ name: "without_slots_faults", slotted: false, failureRate: FAILURE_RATE },
	];
	for (const [p, phase] of phases.entries()) {
		const tenant = await admin("POST", "/tenants", { name: `fleet-sim-${phase.name}` });
		// No gateway rules for the fleet's tenant (rules: []): the run measures the surge and the
		// pipeline, not the per-device limiter (60/min per device would never bind at 1-2 reports).
		await admin("PUT", `/tenants/${tenant.tenant_id}/limits`, { rules: [] });
		const auth = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
		if (WINDOW_MINUTES !== 120)
			await put(`${platform.url}/api/v1/devices/slots/window`, auth, {
				start: "00:00",
				duration_minutes: WINDOW_MINUTES,
			});

		const registerStarted = Date.now();
		const tokens = new Map();
		for (let i = 0; i < fleet.length; i += 10_000) {
			const res = await fetch(`${platform.url}/api/v1/devices/bulk`, {
				method: "POST",
				headers: auth,
				body: JSON.stringify({ devices: fleet.slice(i, i + 10_000) }),
			});
			if (res.status !== 201) throw new Error(`bulk registration: ${res.status} ${await res.text()}`);
			for (const d of (await res.json()).devices) tokens.set(d.device_id, d.token);
		}
		const registerMs = Date.now() - registerStarted;
		await checkSchedules(platform.url, auth, tenant.tenant_id);

		const jobs = fleet.map((machine, index) => {
			const slot = slots.slotFor(
				{
					tenantId: tenant.tenant_id,
					deviceId: machine.device_id,
					timezone: machine.timezone,
					rank: ranks.get(machine.device_id),
				},
				window,
				NIGHT,
				() => shape.plans.get(machine.timezone),
			);
			return {
				index,
				machine,
				token: tokens.get(machine.device_id),
				at: phase.slotted ? slot.at : slot.windowStart,
				report: buildReport(machine, NIGHT, index + 1),
			};
		});
		console.log(`\n== ${phase.name}: registered ${N} devices in ${registerMs} ms; sending …`);
		const night = await runNight({
			url: platform.url,
			jobs,
			concurrency: CONCURRENCY,
			compression: COMPRESSION,
			failureRate: phase.failureRate,
			client: { ...client, ...outbox },
			seed: 1000 + p,
		});

		// Drain: wait until the consumer has written every machine-night (or time out).
		const count = async () =>
			await db
				.prepare(
					"SELECT COUNT(*) AS rows_, COUNT(DISTINCT machine_id) AS machines, SUM(report_date <> ?) AS other_nights FROM machine_reports WHERE tenant_id = ?",
				)
				.bind(NIGHT, tenant.tenant_id)
				.first();
		let landed = await count();
		while (landed.machines < N && Date.now() - night.lastAcceptedReal < DRAIN_TIMEOUT_MS) {
			await new Promise((r) => setTimeout(r, 100));
			landed = await count();
		}
		const drainMs = Math.max(0, Date.now() - night.lastAcceptedReal);
		const processed = await db
			.prepare(
				"SELECT COALESCE(SUM(update_count), 0) AS n, COUNT(*) AS messages FROM telemetry_messages WHERE tenant_id = ?",
			)
			.bind(tenant.tenant_id)
			.first();
		const deadLetters = await db
			.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE tenant_id = ?")
			.bind(tenant.tenant_id)
			.first();
		const s = night.stats;
		runs[phase.name] = {
			machines: N,
			failure_rate: phase.failureRate,
			requests_sent: s.attempts,
			injected_503: s.injected503,
			responses_dropped_after_accept: s.droppedAfterAccept,
			retries: s.retries,
			server_accepted_202: s.serverAccepted,
			reports_accepted: s.clientAccepted,
			gave_up: s.gaveUp,
			rejected_4xx: s.rejected,
			statuses: s.statuses,
			rows_in_d1: landed.rows_,
			machine_nights_in_d1: landed.machines,
			lost: N - landed.machines,
			duplicated: landed.rows_ - landed.machines,
			rows_for_other_nights: landed.other_nights ?? 0,
			queue_messages_processed: processed.messages,
			dead_letters: deadLetters.n,
			send_seconds: Math.round(night.sendMs / 100) / 10,
			reports_per_second: Math.round((s.attempts / night.sendMs) * 1000),
			drain_ms_after_last_accept: drainMs,
			register_ms: registerMs,
			arrivals: night.arrivals,
			zones: night.arrivalsByZone,
		};
		const r = runs[phase.name];
		console.log(
			`${phase.name}: ${r.reports_accepted}/${N} accepted by clients, ${r.requests_sent} requests (${r.retries} retries, ${r.injected_503} injected 503, ${r.responses_dropped_after_accept} responses dropped after a 202), ${r.server_accepted_202} 202s at the server, ${r.machine_nights_in_d1} machine-nights in D1 (${r.rows_in_d1} rows), drained ${drainMs} ms after the last accept, ${r.send_seconds} s sending (${r.reports_per_second} req/s)`,
		);
		if (
			r.lost !== 0 ||
			r.duplicated !== 0 ||
			r.rows_for_other_nights !== 0 ||
			r.reports_accepted !== N ||
			r.dead_letters !== 0
		)
			failures.push(
				`${phase.name}: lost ${r.lost}, duplicated ${r.duplicated}, other nights ${r.rows_for_other_nights}, accepted ${r.reports_accepted}/${N}, dead letters ${r.dead_letters}`,
			);
	}
} finally {
	await platform.stop();
	clearTimeout(deadline);
}

const summary = {};
for (const [clean, faulty] of [
	["with_slots", "without_slots"],
	["with_slots_faults", "without_slots_faults"],
]) {
	const a = runs[clean].arrivals;
	const b = runs[faulty].arrivals;
	const minutes = new Set([...a.keys(), ...b.keys()]);
	summary[clean] = peakToMean(a, minutes);
	summary[faulty] = peakToMean(b, minutes);
	summary[clean].active_minutes = summary[faulty].active_minutes = minutes.size;
}
const zones = zonePeakToMean(runs.with_slots.zones, WINDOW_MINUTES);
const table = Object.entries(runs).map(([name, r]) => ({
	run: name,
	"peak/min": summary[name].peak,
	"mean/min": summary[name].mean,
	"peak:mean": summary[name].ratio,
	accepted: r.reports_accepted,
	requests: r.requests_sent,
	retries: r.retries,
	"in D1": r.machine_nights_in_d1,
	lost: r.lost,
	dup: r.duplicated,
	"drain ms": r.drain_ms_after_last_accept,
	"send s": r.send_seconds,
}));
console.log("\npeak:mean = busiest simulated minute / (reports / minutes with an arrival in either run of the pair)");
console.table(table);
console.log("with slots, per zone (busiest minute of its window / its mean over the window):");
console.table(Object.fromEntries(Object.entries(zones).map(([z, v]) => [z, v])));

// The same ratios for the full 100,000-machine fleet from the slot function alone (no requests):
// what a clean run at full size would measure, since a clean report arrives at its scheduled minute.
const schedule = scheduleOnly({
	n: Number(process.env.SIM_SCHEDULE_MACHINES ?? 100_000),
	slots,
	fleetShape,
	window,
	night: NIGHT,
});
console.log(
	`schedule only, ${schedule.machines} machines (slot function, nothing sent): with slots peak ${schedule.with_slots.peak}/min, without ${schedule.without_slots.peak}/min, mean ${schedule.with_slots.mean}/min over ${schedule.active_minutes} minutes → peak:mean ${schedule.with_slots.ratio} with slots, ${schedule.without_slots.ratio} without`,
);

const strip = ({ arrivals: _a, zones: _z, ...rest }) => rest;
const out = {
	generated_at: new Date().toISOString(),
	night: NIGHT,
	machines: N,
	time_zones: ZONES.length,
	window: { start: "00:00", duration_minutes: WINDOW_MINUTES },
	concurrency: CONCURRENCY,
	definition:
		"Arrivals are accepted reports bucketed by the simulated UTC minute of the attempt that was accepted. peak_to_mean = busiest minute / (reports / number of minutes with an arrival in either run of the pair).",
	summary: Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, { ...summary[name], ...strip(r) }])),
	with_slots_per_zone: zones,
	schedule_only_full_fleet: schedule,
	histogram: histogramRows(runs.with_slots.arrivals, runs.without_slots.arrivals),
	histogram_faults: histogramRows(runs.with_slots_faults.arrivals, runs.without_slots_faults.arrivals),
};
mkdirSync(path.join(root, "bench", "results"), { recursive: true });
writeFileSync(path.join(root, "bench", "results", "fleet-histogram.json"), `${JSON.stringify(out, null, 1)}\n`);
console.log("Wrote bench/results/fleet-histogram.json");

if (failures.length > 0) {
	console.error(`\nINVARIANT VIOLATED:\n${failures.join("\n")}`);
	process.exit(1);
}
console.log(`\nOK: every run landed exactly ${N} machine-nights in D1 (0 lost, 0 duplicated).`);
process.exit(0);

async function put(url, headers, body) {
	const res = await fetch(url, { method: "PUT", headers, body: JSON.stringify(body) });
	if (!res.ok) throw new Error(`PUT ${url}: ${res.status} ${await res.text()}`);
}

/** The slots the simulation uses must be the platform's: compare with GET /devices/{id}/schedule for a sample. */
async function checkSchedules(url, headers, tenantId) {
	for (let i = 0; i < fleet.length; i += Math.max(1, Math.floor(fleet.length / 20))) {
		const m = fleet[i];
		const res = await fetch(`${url}/api/v1/devices/${m.device_id}/schedule`, { headers });
		const body = await res.json();
		const mine = slots.slotOffsetSeconds(
			{ tenantId, deviceId: m.device_id, rank: ranks.get(m.device_id) },
			window,
			shape.plans.get(m.timezone),
		);
		if (!res.ok || body.slot_offset_seconds !== mine)
			throw new Error(`slot of ${m.device_id}: platform ${JSON.stringify(body)}, simulator ${mine}`);
	}
}

function fmtInt(n) {
	return n.toLocaleString("en-US");
}
