// The tenant's feature panels, drawn from each snapshot: campaigns (progress bars), recording
// pipelines (stage graphs), webhook endpoints' health (disabled ones called out) and recent reports.
import { byId, el, fillRows, percent, progressBar, row, tbodyOf, time } from "./dom.js";
import { pipelineCard } from "./stage-graph.js";

/** @typedef {import("./api.js").Snapshot["panels"]} Panels */

/** The last drawn panels as JSON, so an unchanged panel is not rebuilt (and focus stays put). */
const drawn = new Map();

export function drawPanels(/** @type {Panels} */ panels) {
	redraw("campaigns", panels.campaigns, () => drawCampaigns(panels.campaigns));
	redraw("recordings", panels.recordings, () => drawRecordings(panels.recordings));
	redraw("webhooks", panels.webhooks, () => drawWebhooks(panels.webhooks));
	redraw("reports", panels.reports, () => drawReports(panels.reports));
}

function drawCampaigns(/** @type {Panels["campaigns"]} */ campaigns) {
	const list = byId("campaigns");
	list.replaceChildren(
		...(campaigns.length ? campaigns.map(campaignItem) : [el("li", { text: "No campaigns yet.", className: "empty" })]),
	);
}

function campaignItem(/** @type {Panels["campaigns"][number]} */ c) {
	const id = `campaign-${c.campaign_id}`;
	const done = `${c.sent} of ${c.total} sent`;
	const rate = c.rate > 0 ? ` · ${c.rate}/s` : "";
	const eta = c.eta === null ? "" : ` · ETA ${new Date(c.eta).toLocaleTimeString()}`;
	const failed = c.failed > 0 ? ` · ${c.failed} failed` : "";
	return el("li", { className: `campaign status-${c.status}`, attrs: { "data-campaign": c.campaign_id } }, [
		el("div", { className: "campaign-head" }, [
			el("a", {
				text: c.name,
				attrs: { id, href: `/api/v1/campaigns/${c.campaign_id}`, "data-focus-key": id },
			}),
			el("span", { className: `badge status-${c.status}`, text: c.status }),
		]),
		progressBar(c.progress, id, `${c.status}, ${done} (${percent(c.progress)})`),
		el("p", { className: "summary", text: `${done} (${percent(c.progress)})${failed}${rate}${eta}` }),
	]);
}

function drawRecordings(/** @type {Panels["recordings"]} */ recordings) {
	byId("recordings").replaceChildren(
		...(recordings.length ? recordings.map(pipelineCard) : [el("p", { text: "No recordings yet." })]),
	);
}

function drawWebhooks(/** @type {Panels["webhooks"]} */ endpoints) {
	const disabled = endpoints.filter((e) => !e.enabled);
	const alert = byId("webhooks-alert");
	alert.hidden = disabled.length === 0;
	alert.replaceChildren(
		el("strong", { text: `${disabled.length} endpoint${disabled.length === 1 ? "" : "s"} disabled: ` }),
		...disabled.map((e) => el("span", { text: `${e.url} (${e.disabled_reason ?? "disabled"}) ` })),
		"Fix the receiver, then enable it (POST /api/v1/webhooks/endpoints/{id}/enable).",
	);
	const ms = (/** @type {number | null} */ v) => (v === null ? "–" : `${Math.round(v)} ms`);
	fillRows(
		tbodyOf("webhooks"),
		endpoints.map((e) => {
			const tr = row([
				e.url,
				e.enabled ? "enabled" : `disabled: ${e.disabled_reason ?? "no reason given"}`,
				e.success_rate === null ? "no attempts" : percent(e.success_rate),
				ms(e.p50_ms),
				ms(e.p99_ms),
				e.attempts,
			]);
			if (!e.enabled) tr.className = "endpoint-disabled";
			return tr;
		}),
		"No endpoints.",
	);
}

function drawReports(/** @type {Panels["reports"]} */ reports) {
	fillRows(
		tbodyOf("reports"),
		reports.map((r) => {
			const id = `report-${r.report_id}`;
			const links = r.result
				? el("span", {}, [
						el("a", { text: "JSON", attrs: { href: r.result.json, "aria-label": `${r.type} result as JSON` } }),
						" · ",
						el("a", { text: "CSV", attrs: { href: r.result.csv, "aria-label": `${r.type} result as CSV` } }),
					])
				: (r.error ?? "–");
			return row([
				el("span", { text: r.type, attrs: { id } }),
				r.status,
				progressBar(r.progress, id, `${r.status}, ${r.chunks_done} of ${r.chunks_total} chunks`),
				time(r.created_at),
				links,
			]);
		}),
		"No reports yet.",
	);
}

/** Rebuilds a panel only when its data changed, and gives focus back to the element that had it. */
function redraw(/** @type {string} */ key, /** @type {unknown} */ data, /** @type {() => void} */ draw) {
	const json = JSON.stringify(data);
	if (drawn.get(key) === json) return;
	drawn.set(key, json);
	const active = document.activeElement;
	const focusKey = active instanceof HTMLElement ? active.dataset.focusKey : undefined;
	draw();
	if (focusKey === undefined) return;
	const again = document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
	if (again instanceof HTMLElement && again !== document.activeElement) again.focus();
}
