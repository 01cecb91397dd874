// The dashboard's charts (uPlot, served from /vendor). Each chart picks its series from a snapshot;
// a text line under it gives the latest values for screen readers and small screens.
import uPlot from "../vendor/uPlot.esm.js";
import { byId, el, find } from "./dom.js";

/** Colours with at least 4.5:1 contrast on white. */
const PALETTE = ["#1a5fb4", "#a51d2d", "#26734d", "#865e00", "#613583", "#0b6e79", "#c01c28", "#5e5c64"];
const HEIGHT = 180;

/** @typedef {[number, number][]} Points */
/** @typedef {{ id: string, title: string, scope: "any" | "tenant", bars?: boolean, rates?: boolean, pick: (s: import("./api.js").Snapshot) => Record<string, Points> }} ChartDef */

/**
 * @param {Partial<Record<string, Points>>} series
 * @param {(name: string) => boolean} keep
 * @returns {Record<string, Points>}
 */
function pickSeries(series, keep) {
	/** @type {Record<string, Points>} */
	const out = {};
	for (const [name, points] of Object.entries(series)) if (points && keep(name)) out[name] = points;
	return out;
}

/** @type {ChartDef[]} */
const CHARTS = [
	{
		id: "requests",
		title: "Requests by status (per minute)",
		scope: "any",
		rates: true,
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("http_")),
	},
	{
		id: "limiter",
		title: "Rate limiter allowed / denied by policy (per minute)",
		scope: "any",
		rates: true,
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("limit_")),
	},
	{
		id: "ingest",
		title: "Ingest received / processed (per minute) and backlog by lane",
		scope: "any",
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("ingest_")),
	},
	{
		id: "queues",
		title: "Queue depth",
		scope: "any",
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("queue_")),
	},
	{
		id: "jobs",
		title: "Jobs finished per minute",
		scope: "tenant",
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("jobs_finished_")),
	},
	{
		id: "payments",
		title: "Payments per minute",
		scope: "tenant",
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("payments_")),
	},
	{
		id: "devices",
		title: "Devices reporting vs missed (last 24 h)",
		scope: "tenant",
		pick: (s) => pickSeries(s.series, (n) => n.startsWith("devices_")),
	},
	{
		id: "surge",
		title: "Tonight's surge: machine reports per minute",
		scope: "tenant",
		bars: true,
		pick: (s) => ({ reports: s.surge.minutes }),
	},
];

/** @type {Map<string, { plot: uPlot, names: string }>} */
const plots = new Map();

/** Series name to legend label: `_total` dropped, policy after the colon kept. */
function label(/** @type {string} */ name) {
	return name
		.replace(/_total$/, "")
		.replace(/^limit_/, "")
		.replaceAll("_", " ");
}

/** Points of several series on one time axis (union of minutes; missing = null). */
export function align(/** @type {Record<string, Points>} */ series) {
	const names = Object.keys(series).sort();
	const xs = [...new Set(names.flatMap((n) => series[n].map((p) => p[0])))].sort((a, b) => a - b);
	const index = new Map(xs.map((x, i) => [x, i]));
	const ys = names.map((n) => {
		/** @type {(number | null)[]} */
		const column = xs.map(() => null);
		for (const [x, y] of series[n]) column[index.get(x) ?? 0] = y;
		return column;
	});
	/** @type {uPlot.AlignedData} */
	const data = [xs.map((x) => x / 1000), ...ys];
	return { names, data, ys };
}

/** Builds the chart cards once; which are shown depends on the session's scope. */
export function setUpCharts(/** @type {"admin" | "tenant"} */ scope) {
	const root = byId("charts");
	root.replaceChildren();
	plots.clear();
	for (const def of CHARTS) {
		if (def.scope === "tenant" && scope !== "tenant") continue;
		const figure = el("figure", { className: "card chart", attrs: { id: `chart-${def.id}` } }, [
			el("figcaption", { text: def.title, attrs: { id: `chart-${def.id}-title` } }),
			el("div", {
				className: "plot",
				attrs: { role: "img", "aria-labelledby": `chart-${def.id}-title`, "data-points": "0" },
			}),
			el("p", { className: "summary", text: "no data yet" }),
		]);
		root.append(figure);
	}
}

/** Draws a snapshot: new series recreate a chart, the same ones only get new data. */
export function drawCharts(/** @type {import("./api.js").Snapshot} */ snapshot) {
	for (const def of CHARTS) {
		const figure = document.getElementById(`chart-${def.id}`);
		if (!figure) continue;
		const box = find(figure, ".plot");
		const summary = find(figure, ".summary");
		const { names, data, ys } = align(def.pick(snapshot));
		const points = ys.reduce((n, col) => n + col.filter((v) => v !== null).length, 0);
		box.dataset.points = String(points);
		summary.textContent = names.length
			? names.map((n, i) => `${label(n)}: ${ys[i]?.at(-1) ?? "–"}`).join(" · ")
			: def.rates
				? "collecting: a per-minute rate needs readings from two minutes"
				: "no data yet";
		if (names.length === 0) continue;
		const key = names.join("|");
		const existing = plots.get(def.id);
		if (existing && existing.names === key) {
			existing.plot.setData(data);
			continue;
		}
		existing?.plot.destroy();
		box.replaceChildren();
		plots.set(def.id, { plot: new uPlot(options(def, names, box), data, box), names: key });
	}
}

/** One point alone would get a range of years: keep at least an hour around it. @returns {[number, number]} */
function xRange(/** @type {unknown} */ _u, /** @type {number} */ min, /** @type {number} */ max) {
	return max - min < 600 ? [max - 3600, max + 60] : [min, max];
}

const BARS = uPlot.paths.bars?.({ size: [0.9, 12] });

/** @returns {uPlot.Options} */
function options(/** @type {ChartDef} */ def, /** @type {string[]} */ names, /** @type {HTMLElement} */ box) {
	return {
		width: Math.max(240, box.clientWidth || 300),
		height: HEIGHT,
		legend: { show: true },
		scales: { x: { time: true, range: xRange } },
		axes: [{ stroke: "#1d2330" }, { stroke: "#1d2330", size: 50 }],
		series: [
			{},
			...names.map((name, i) => ({
				label: label(name),
				stroke: PALETTE[i % PALETTE.length],
				width: 2,
				...(def.bars && BARS ? { fill: `${PALETTE[i % PALETTE.length]}55`, paths: BARS } : {}),
			})),
		],
	};
}

/** Keeps every chart as wide as its card (phones included). */
export function watchWidths() {
	const observer = new ResizeObserver(() => {
		for (const [id, { plot }] of plots) {
			const box = document.querySelector(`#chart-${id} .plot`);
			if (box && box.clientWidth > 0) plot.setSize({ width: box.clientWidth, height: HEIGHT });
		}
	});
	observer.observe(byId("charts"));
}
