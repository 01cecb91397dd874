// Lists with drill-down: jobs (filter, detail, retry/cancel), dead letters (replay), devices, trucks.
import {
	api,
	getJob,
	getJobLogs,
	getMachine,
	getSchedule,
	listDevices,
	listJobs,
	listTelemetryDeadLetters,
	listTrucks,
} from "./api.js";
import { button, byId, el, fillRows, row, tbodyOf, time, valueOf } from "./dom.js";

const PAGE = 20;
const DEVICE_PAGE = 10;
/** @type {{ jobsCursor: string | null, devicesCursor: string | null, say: (text: string, error?: boolean) => void }} */
const state = { jobsCursor: null, devicesCursor: null, say: () => {} };

export function setUpLists(/** @type {(text: string, error?: boolean) => void} */ say) {
	state.say = say;
	byId("job-filter").addEventListener("submit", (event) => {
		event.preventDefault();
		void loadJobs(false);
	});
	byId("jobs-more").addEventListener("click", () => void loadJobs(true));
	byId("devices-more").addEventListener("click", () => void loadDevices(true));
}

/** Refreshes every list the scope shows. */
export async function loadLists(/** @type {"admin" | "tenant"} */ scope) {
	if (scope === "admin") return loadTelemetryDeadLetters();
	await Promise.all([loadJobs(false), loadDeadJobs(), loadDevices(false), loadTrucks()]);
}

/** The job-type table from the snapshot (p50/p95/p99 over the jobs feature's 15-minute window). */
export function drawJobTypes(/** @type {import("./api.js").Snapshot} */ snapshot) {
	const tbody = tbodyOf("job-types");
	fillRows(
		tbody,
		snapshot.jobs.by_type.map((t) => row([t.type, t.priority, t.processed, t.failed, t.p50_ms, t.p95_ms, t.p99_ms])),
		"no jobs in the last 15 minutes",
	);
}

async function loadJobs(/** @type {boolean} */ more) {
	const params = new URLSearchParams({ limit: String(PAGE) });
	const status = valueOf("job-status");
	const type = valueOf("job-type").trim();
	if (status) params.set("status", status);
	if (type) params.set("type", type);
	if (more && state.jobsCursor) params.set("cursor", state.jobsCursor);
	const page = await listJobs(params).catch((err) => state.say(err.message, true));
	if (!page) return;
	state.jobsCursor = page.next_cursor;
	byId("jobs-more").hidden = !page.next_cursor;
	const tbody = tbodyOf("jobs");
	const rows = page.jobs.map((job) =>
		row([
			button(job.job_id, () => openJob(job.job_id), `Open job ${job.job_id}`),
			job.type,
			job.status,
			job.attempts,
			time(job.created_at),
		]),
	);
	if (more) tbody.append(...rows);
	else fillRows(tbody, rows, "no jobs match");
}

/** A job's detail: its fields, a timeline and its logs, with retry (dead) and cancel (unfinished). */
export async function openJob(/** @type {string} */ id) {
	const panel = byId("job-detail");
	const [job, logs] = await Promise.all([getJob(id), getJobLogs(id)]).catch((err) => {
		state.say(err.message, true);
		return [null, null];
	});
	if (!job || !logs) return;
	const timeline = [
		["created", job.created_at],
		["started", job.started_at],
		["finished", job.completed_at],
	].filter(([, at]) => at);
	const actions = [];
	if (job.status === "dead") actions.push(button("Retry", () => act(`/api/v1/jobs/${id}/retry`, "POST", id)));
	if (!["completed", "dead", "cancelled"].includes(job.status))
		actions.push(button("Cancel", () => act(`/api/v1/jobs/${id}`, "DELETE", id)));
	panel.replaceChildren(
		el("h3", { text: `Job ${job.job_id}` }),
		el("p", {
			className: "job-state",
			text: `${job.type} · ${job.status} · attempt ${job.attempts} of ${job.max_retries + 1}`,
		}),
		...(job.error ? [el("p", { className: "error", text: `error: ${job.error}` })] : []),
		el(
			"ol",
			{ className: "timeline", attrs: { "aria-label": "Timeline" } },
			timeline.map(([what, at]) => el("li", { text: `${what}: ${time(at)}` })),
		),
		el("h4", { text: "Logs" }),
		el(
			"ol",
			{ className: "logs" },
			logs.logs.map((l) => el("li", { text: `${time(l.at)} [${l.level}] ${l.message}` })),
		),
		el("div", { className: "actions" }, [...actions, button("Close", () => void (panel.hidden = true))]),
	);
	panel.hidden = false;
	panel.focus();
}

async function act(/** @type {string} */ path, /** @type {string} */ method, /** @type {string} */ id) {
	const ok = await api(path, { method }).then(
		() => true,
		(err) => state.say(err.message, true),
	);
	if (!ok) return;
	state.say(`job ${id}: ${method === "DELETE" ? "cancel requested" : "queued again"}`);
	await Promise.all([openJob(id), loadJobs(false), loadDeadJobs()]);
}

async function loadDeadJobs() {
	const page = await listJobs(new URLSearchParams({ status: "dead", limit: String(PAGE) })).catch((err) =>
		state.say(err.message, true),
	);
	if (!page) return;
	const tbody = tbodyOf("dead-jobs");
	fillRows(
		tbody,
		page.jobs.map((job) =>
			row([
				button(job.job_id, () => openJob(job.job_id), `Open job ${job.job_id}`),
				job.type,
				job.error,
				button("Replay", () => act(`/api/v1/jobs/${job.job_id}/retry`, "POST", job.job_id), `Replay job ${job.job_id}`),
			]),
		),
		"no dead letters",
	);
}

async function loadTelemetryDeadLetters() {
	const page = await listTelemetryDeadLetters().catch((err) => state.say(err.message, true));
	if (!page) return;
	const tbody = tbodyOf("telemetry-dead");
	fillRows(
		tbody,
		page.dead_letters.map((d) =>
			row([
				d.id,
				d.tenant_id,
				d.reason,
				button(
					"Replay",
					async () => {
						await api(`/api/v1/dead-letters/${d.id}/replay`, { method: "POST" }).then(
							() => state.say(`dead letter ${d.id} replayed`),
							(err) => state.say(err.message, true),
						);
						await loadTelemetryDeadLetters();
					},
					`Replay dead letter ${d.id}`,
				),
			]),
		),
		"no pending dead letters",
	);
}

async function loadDevices(/** @type {boolean} */ more) {
	const params = new URLSearchParams({ limit: String(DEVICE_PAGE) });
	if (more && state.devicesCursor) params.set("cursor", state.devicesCursor);
	const page = await listDevices(params).catch((err) => state.say(err.message, true));
	if (!page) return;
	state.devicesCursor = page.next_cursor ?? null;
	byId("devices-more").hidden = !state.devicesCursor;
	const rows = await Promise.all(
		page.devices.map(async (d) => {
			const vending = d.kind === "vending";
			const [report, schedule] = await Promise.all([
				vending ? getMachine(d.device_id).catch(() => null) : null,
				vending && !d.revoked_at ? getSchedule(d.device_id).catch(() => null) : null,
			]);
			return row([
				d.device_id,
				d.kind,
				d.city,
				report ? time(report.received_at ?? report.report_date) : "–",
				schedule ? time(schedule.next_report_at) : "–",
			]);
		}),
	);
	const tbody = tbodyOf("devices");
	if (more) tbody.append(...rows);
	else fillRows(tbody, rows, "no devices registered");
}

async function loadTrucks() {
	const page = await listTrucks().catch((err) => state.say(err.message, true));
	if (!page) return;
	const tbody = tbodyOf("trucks");
	fillRows(
		tbody,
		page.trucks.map((t) => row([t.truck_id, t.lat, t.lng, t.speed_kmh, time(t.recorded_at)])),
		"no truck positions yet",
	);
}
