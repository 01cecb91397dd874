// Floodgate dashboard: polls the platform's own API with the caller's key and draws what it
// gets. No framework and no build step; every value is written with textContent (never HTML).

const POLL_MS = 2000;
const HISTORY = 150; // 5 minutes of 2 s samples
const $ = (id) => document.getElementById(id);
const SVG_NS = "http://www.w3.org/2000/svg";

// sessionStorage, not localStorage: the key lives only as long as this tab, and is gone when it closes.
const state = { key: sessionStorage.getItem("floodgate.key") ?? "", timer: null, history: [], last: null };

$("key").value = state.key;
$("connect").addEventListener("submit", (event) => {
	event.preventDefault();
	state.key = $("key").value.trim();
	sessionStorage.setItem("floodgate.key", state.key);
	state.history = [];
	state.last = null;
	start();
});
$("fleet-file").addEventListener("change", (event) => {
	const file = event.target.files?.[0];
	if (file) void file.text().then((text) => drawFleet(JSON.parse(text)));
});

function start() {
	clearInterval(state.timer);
	if (!state.key) return setStatus("enter a key to connect", true);
	void poll();
	state.timer = setInterval(() => void poll(), POLL_MS);
}

async function api(path) {
	const res = await fetch(path, { headers: { Authorization: `Bearer ${state.key}` } });
	const limit = res.headers.get("RateLimit");
	if (limit) $("ratelimit").textContent = `RateLimit: ${limit}`;
	if (!res.ok) {
		const body = await res.json().catch(() => null);
		throw new Error(`${path}: ${res.status} ${body?.error?.message ?? ""}`);
	}
	return res.json();
}

async function poll() {
	const stats = await api("/api/v1/stats").catch((e) => e);
	if (stats instanceof Error) return setStatus(stats.message, true);
	drawIngest(stats);
	if (stats.scope === "platform") {
		setStatus(`connected as operator · ${new Date().toLocaleTimeString()} (tenant panels need an API key)`);
		return;
	}
	const [jobs, trucks, tickets, campaigns] = await Promise.allSettled([
		api("/api/v1/jobs/metrics"),
		api("/api/v1/trucks?limit=100"),
		api("/api/v1/maintenance/tickets?status=open&limit=20"),
		api("/api/v1/campaigns?limit=20"),
	]);
	if (jobs.status === "fulfilled") drawJobs(jobs.value.metrics ?? []);
	if (trucks.status === "fulfilled") drawTrucks(trucks.value.trucks ?? []);
	if (tickets.status === "fulfilled") drawTickets(tickets.value.tickets ?? []);
	if (campaigns.status === "fulfilled") drawCampaigns(campaigns.value.campaigns ?? []);
	const failed = [jobs, trucks, tickets, campaigns].filter((r) => r.status === "rejected");
	setStatus(
		failed.length ? failed[0].reason.message : `connected · ${new Date().toLocaleTimeString()}`,
		failed.length > 0,
	);
}

function drawIngest(s) {
	const now = Date.now();
	const rate = state.last ? Math.max(0, ((s.processed - state.last.processed) * 1000) / (now - state.last.at)) : 0;
	state.last = { processed: s.processed, at: now };
	state.history.push({ rate, backlog: s.backlog });
	if (state.history.length > HISTORY) state.history.shift();
	const figures = [
		["received", s.received],
		["enqueued", s.enqueued],
		["processed", s.processed],
		["backlog", s.backlog],
		["batches", s.batches],
		["avg batch ms", s.avg_batch_ms ?? "–"],
		["dead letters", s.dead_letters],
		["rejected", s.rejected],
	];
	$("ingest-figures").replaceChildren(
		...figures.map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, format(value)))),
	);
	sparkline(
		$("ingest-rate"),
		state.history.map((h) => h.rate),
	);
	sparkline(
		$("ingest-backlog"),
		state.history.map((h) => h.backlog),
	);
}

function drawJobs(metrics) {
	$("jobs-rows").replaceChildren(
		...metrics.map((m) =>
			row([
				m.type,
				m.priority,
				m.depth.queued + m.depth.scheduled,
				m.depth.processing,
				m.processed,
				m.failed,
				m.processing_ms.p50 ?? "–",
				m.processing_ms.p95 ?? "–",
				m.processing_ms.p99 ?? "–",
				m.oldest_waiting_age_ms === null ? "–" : `${Math.round(m.oldest_waiting_age_ms / 1000)} s`,
			]),
		),
	);
}

// A progress bar per campaign (a <progress> element: no inline style for the CSP to block).
function drawCampaigns(campaigns) {
	$("campaign-rows").replaceChildren(
		...campaigns.map((c) => {
			const bar = el("progress", { max: "1", value: String(c.progress), title: `${Math.round(c.progress * 100)} %` });
			const eta = c.eta === null ? "–" : new Date(c.eta).toLocaleTimeString();
			const cells = [
				c.name,
				c.status,
				bar,
				`${format(c.sent)} / ${format(c.total)}`,
				c.failed,
				c.bounced,
				c.suppressed,
				c.rate,
				eta,
			];
			return el("tr", {}, ...cells.map((v) => el("td", {}, v instanceof Node ? v : format(v))));
		}),
	);
}

function drawTrucks(trucks) {
	$("truck-rows").replaceChildren(
		...trucks
			.slice(0, 20)
			.map((t) =>
				row([
					t.truck_id,
					t.lat.toFixed(4),
					t.lng.toFixed(4),
					t.speed_kmh ?? "–",
					new Date(t.recorded_at).toLocaleTimeString(),
					t.colo ?? "–",
				]),
			),
	);
	$("truck-map").replaceChildren(
		svg("rect", { x: -180, y: -90, width: 360, height: 180, fill: "#eef2f8" }),
		...trucks.map((t) => svg("circle", { cx: t.lng, cy: -t.lat, r: 2, fill: "#2f6fed" }, svg("title", {}, t.truck_id))),
	);
}

function drawTickets(tickets) {
	$("ticket-rows").replaceChildren(
		...tickets.map((t) =>
			row([t.machine_id, t.reason, t.day, typeof t.detail === "string" ? t.detail : JSON.stringify(t.detail ?? "")]),
		),
	);
}

/** The fleet simulator's histogram: bars with slots, a line without. */
function drawFleet(data) {
	const minutes = data.histogram ?? data.minutes ?? [];
	const withSlots = minutes.map((m) => m.with_slots ?? 0);
	const without = minutes.map((m) => m.without_slots ?? 0);
	const max = Math.max(1, ...withSlots, ...without);
	const w = 600 / Math.max(1, minutes.length);
	const bars = withSlots.map((v, i) =>
		svg("rect", {
			x: i * w,
			y: 160 - (v / max) * 160,
			width: Math.max(w, 0.5),
			height: (v / max) * 160,
			fill: "#2f6fed",
		}),
	);
	const points = without.map((v, i) => `${i * w},${160 - (v / max) * 160}`).join(" ");
	$("fleet-chart").replaceChildren(
		...bars,
		svg("polyline", { points, fill: "none", stroke: "#b42318", "stroke-width": 1 }),
	);
	const summary = data.summary ? JSON.stringify(data.summary) : "";
	$("fleet-summary").textContent = `blue: with slots · red: all at local midnight · ${summary}`;
}

function sparkline(target, values) {
	const max = Math.max(1, ...values);
	const step = 300 / Math.max(1, HISTORY - 1);
	const points = values.map((v, i) => `${i * step},${60 - (v / max) * 56}`).join(" ");
	target.replaceChildren(svg("polyline", { points, fill: "none", stroke: "#2f6fed", "stroke-width": 1.5 }));
	target.previousElementSibling?.setAttribute("data-now", format(values.at(-1) ?? 0));
}

function row(cells) {
	return el("tr", {}, ...cells.map((c) => el("td", {}, format(c))));
}

function el(tag, attrs, ...children) {
	const node = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
	for (const child of children) node.append(child instanceof Node ? child : String(child));
	return node;
}

function svg(tag, attrs, ...children) {
	const node = document.createElementNS(SVG_NS, tag);
	for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
	for (const child of children) node.append(child instanceof Node ? child : String(child));
	return node;
}

function format(value) {
	return typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 1 }) : String(value);
}

function setStatus(text, bad = false) {
	$("status").textContent = text;
	$("status").className = bad ? "bad" : "";
}

start();
