// Floodgate dashboard: log in (the token is exchanged for an HttpOnly session cookie and forgotten),
// then one server-sent event stream delivers a snapshot every few seconds. The server closes the
// stream after a minute; EventSource reconnects by itself, and lists refresh on every few snapshots.
import { ApiError, currentSession, logIn, logOut } from "./api.js";
import { drawCharts, setUpCharts, watchWidths } from "./charts.js";
import { byId, valueOf } from "./dom.js";
import { drawJobTypes, loadLists, setUpLists } from "./lists.js";
import { drawPanels } from "./panels.js";

/** Lists are re-read every this many snapshots (charts update on each). */
const LIST_EVERY = 6;
/** @type {{ source: EventSource | null, scope: "admin" | "tenant" | null, seen: number }} */
const state = { source: null, scope: null, seen: 0 };

/** @param {string} text @param {boolean} [error] */
function say(text, error = false) {
	const status = byId("status");
	status.textContent = text;
	status.classList.toggle("error", error);
}

function showLogin(/** @type {string} */ message) {
	state.source?.close();
	state.source = null;
	state.scope = null;
	byId("login").hidden = false;
	byId("who").hidden = true;
	byId("main").hidden = true;
	say(message);
	byId("token").focus();
}

/** @param {{ scope: "admin" | "tenant", tenant_id: string | null, tenant_name: string | null, expires_at: number }} session */
function showDashboard(session) {
	state.scope = session.scope;
	byId("login").hidden = true;
	byId("who").hidden = false;
	byId("who-text").textContent =
		session.scope === "admin" ? "operator" : `tenant ${session.tenant_name ?? session.tenant_id ?? ""}`;
	byId("main").hidden = false;
	document.body.dataset.scope = session.scope;
	setUpCharts(session.scope);
	void loadLists(session.scope);
	connect();
}

function connect() {
	state.source?.close();
	const source = new EventSource("/api/v1/dashboard/stream");
	state.source = source;
	source.addEventListener("snapshot", (event) => {
		/** @type {import("./api.js").Snapshot} */
		const snapshot = JSON.parse(event.data);
		drawCharts(snapshot);
		if (state.scope === "tenant") {
			drawJobTypes(snapshot);
			drawPanels(snapshot.panels);
		}
		byId("updated").textContent = `Updated ${new Date(snapshot.at).toLocaleTimeString()}.`;
		say(
			`live · breaker ${snapshot.payments.breaker ?? "n/a"} · telemetry backlog ${snapshot.queues.telemetry_backlog}`,
		);
		if (++state.seen % LIST_EVERY === 0 && state.scope) void loadLists(state.scope);
	});
	source.addEventListener("error", () => {
		// A closed stream reconnects by itself; a lost session does not: ask whether it still holds.
		void currentSession().then((s) => {
			if (!s) showLogin("session ended: log in again");
		});
	});
}

byId("login").addEventListener("submit", (event) => {
	event.preventDefault();
	const input = byId("token");
	const token = valueOf("token").trim();
	if (input instanceof HTMLInputElement) input.value = "";
	say("logging in…");
	logIn(token).then(showDashboard, (err) =>
		showLogin(err instanceof ApiError && err.status === 401 ? "that token was not accepted" : err.message),
	);
});

byId("logout").addEventListener("click", () => {
	void logOut().finally(() => showLogin("logged out"));
});

setUpLists(say);
watchWidths();
currentSession().then(
	(session) => (session ? showDashboard(session) : showLogin("log in with the admin token or an API key")),
	(err) => showLogin(err.message),
);
