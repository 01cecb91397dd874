// A recording's stage graph as columns of stage boxes (CSS grid, no inline style): a stage sits one
// column right of the deepest stage it waits for, so audio, video, transcript → highlights → summary.
import { el, percent, progressBar } from "./dom.js";

/** @typedef {import("./api.js").Snapshot["panels"]["recordings"][number]} Pipeline */
/** @typedef {Pipeline["stages"][number]} Stage */

/** Columns of stages by depth (0 = waits for nothing); a stage naming an unknown parent counts it as depth 0. */
export function stageColumns(/** @type {Stage[]} */ stages) {
	/** @type {Map<string, number>} */
	const depth = new Map();
	const byName = new Map(stages.map((s) => [s.name, s]));
	/** @type {(name: string, seen: Set<string>) => number} */
	const depthOf = (name, seen) => {
		const known = depth.get(name);
		if (known !== undefined) return known;
		const stage = byName.get(name);
		if (!stage || seen.has(name)) return 0;
		seen.add(name);
		const d = stage.after.reduce((max, parent) => Math.max(max, depthOf(parent, seen) + 1), 0);
		depth.set(name, d);
		return d;
	};
	/** @type {Stage[][]} */
	const columns = [];
	for (const stage of stages) {
		const d = depthOf(stage.name, new Set());
		(columns[d] ??= []).push(stage);
	}
	return columns.filter((c) => c.length > 0);
}

/** One recording: its title (a link to its JSON) and the graph, a focusable labelled group. */
export function pipelineCard(/** @type {Pipeline} */ p) {
	const name = p.title ?? `meeting ${p.meeting_id}`;
	const graphLabel = `Stage graph of ${name}: ${p.status}`;
	const columns = stageColumns(p.stages).map((stages, i) =>
		el("li", { className: "stage-column", attrs: { "aria-label": i === 0 ? "first" : `then (step ${i + 1})` } }, [
			el(
				"ul",
				{ className: "stage-list" },
				stages.map((s) => stageBox(p.recording_id, s)),
			),
		]),
	);
	return el("article", { className: "pipeline", attrs: { "data-recording": p.recording_id } }, [
		el("h3", {}, [
			el("a", {
				text: name,
				attrs: { href: `/api/v1/recordings/${p.recording_id}`, "data-focus-key": `rec-${p.recording_id}` },
			}),
			el("span", { text: ` · ${p.status}`, className: `badge status-${p.status}` }),
		]),
		el(
			"ol",
			{
				className: "stage-graph",
				attrs: {
					role: "group",
					tabindex: "0",
					"aria-label": graphLabel,
					"data-focus-key": `graph-${p.recording_id}`,
				},
			},
			columns,
		),
	]);
}

function stageBox(/** @type {string} */ recordingId, /** @type {Stage} */ s) {
	const id = `stage-${recordingId}-${s.name}`;
	const detail = s.segments > 1 ? `${s.segments_done}/${s.segments} segments` : percent(s.progress);
	return el("li", { className: `stage status-${s.status}`, attrs: { "data-stage": s.name } }, [
		el("span", { className: "stage-name", text: s.name, attrs: { id } }),
		el("span", { className: "stage-status", text: `${s.status} · ${detail}` }),
		progressBar(s.progress, id, `${s.name} ${s.status}, ${detail}`),
		s.after.length ? el("span", { className: "stage-after", text: `after ${s.after.join(", ")}` }) : "",
	]);
}
