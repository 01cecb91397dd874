// `npm start`: local secrets, local D1 migrations (no prompt), then the platform on 127.0.0.1:8787
// (its URLs, the admin token's place and a first curl are printed once it answers),
// with its cron triggers fired on their schedule: `wrangler dev` never fires crons by itself, so a
// small scheduler here calls wrangler's scheduled-event route (enabled by --test-scheduled) for
// each expression of `[triggers] crons` in wrangler.toml, and stops with the server.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Cron } from "croner";
import { ensureDevVars } from "./ensure-dev-vars.mjs";

/** How often the scheduler asks whether the server answers yet. */
const READY_POLL_MS = 500;

ensureDevVars();

const shell = process.platform === "win32";
const args = process.argv.slice(2);
const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");

// CI=true makes wrangler take the default "yes" instead of asking before applying migrations.
const migrated = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], {
	stdio: "inherit",
	shell,
	env: { ...process.env, CI: "true" },
});
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

const devArgs = ["dev", ...(args.includes("--test-scheduled") ? [] : ["--test-scheduled"]), ...args];
const dev = spawn("wrangler", devArgs, { stdio: "inherit", shell });
const origin = `http://${flag("--ip") ?? tomlDev("ip") ?? "127.0.0.1"}:${flag("--port") ?? tomlDev("port") ?? "8787"}`;
const crons = readCrons(toml);
/** @type {Cron[]} */
const timers = [];
let stopped = false;

dev.on("exit", (code, signal) => {
	stopped = true;
	for (const timer of timers) timer.stop();
	process.exit(code ?? (signal ? 1 : 0));
});
for (const signal of ["SIGINT", "SIGTERM"]) {
	process.on(signal, () => {
		stopped = true;
		for (const timer of timers) timer.stop();
		dev.kill(signal);
	});
}

void startScheduler();

/** Waits until the server answers, then fires each cron expression on its schedule (UTC, like production). */
async function startScheduler() {
	for (;;) {
		if (stopped) return;
		if (await answers(`${origin}/api/v1/health`)) break;
		await sleep(READY_POLL_MS);
	}
	printWelcome();
	for (const expr of crons) {
		// protect: an occurrence is skipped while the previous one is still running.
		timers.push(new Cron(expr, { timezone: "UTC", protect: true }, () => fire(expr)));
	}
	console.log(`[start] local crons: ${crons.map((c) => `"${c}"`).join(", ") || "none"} → ${origin}/__scheduled`);
}

/** Where everything is, once the server answers: the first thing a new user needs. */
function printWelcome() {
	const lines = [
		"",
		"Floodgate is up.",
		`  API        ${origin}/api/v1   (health: ${origin}/api/v1/health)`,
		`  Dashboard  ${origin}/`,
		`  API docs   ${origin}/docs    (OpenAPI: ${origin}/api/v1/openapi.json)`,
		"  Admin token: ADMIN_TOKEN in .dev.vars (created from .dev.vars.example)",
		"  Create a first tenant (prints its API key once):",
		`    curl -s -X POST ${origin}/api/v1/admin/tenants -H "Authorization: Bearer $(grep ^ADMIN_TOKEN= .dev.vars | cut -d'"' -f2)" -H "Content-Type: application/json" -d '{"name":"acme"}'`,
		`  Demo data for the dashboard: npm run seed -- --url ${origin}`,
		"",
	];
	console.log(lines.join("\n"));
}

async function fire(expr) {
	try {
		const res = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent(expr)}`);
		if (!res.ok) console.error(`[start] cron "${expr}": HTTP ${res.status}`);
		await res.body?.cancel();
	} catch (err) {
		if (!stopped)
			console.error(`[start] cron "${expr}" not delivered: ${err instanceof Error ? err.message : String(err)}`);
	}
}

async function answers(url) {
	try {
		const res = await fetch(url);
		await res.body?.cancel();
		return true;
	} catch {
		return false;
	}
}

/** The `crons = [...]` of the `[triggers]` table (a plain parse: quoted strings inside the brackets). */
function readCrons(text) {
	const table = text.split(/^\[/m).find((t) => t.startsWith("triggers]"));
	const list = table?.match(/^\s*crons\s*=\s*\[([^\]]*)\]/m);
	if (!list) return [];
	return [...list[1].matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]);
}

/** A `key = value` of the `[dev]` table, unquoted. */
function tomlDev(key) {
	const table = toml.split(/^\[/m).find((t) => t.startsWith("dev]"));
	const line = table?.match(new RegExp(`^\\s*${key}\\s*=\\s*"?([^"\\n]+?)"?\\s*$`, "m"));
	return line?.[1];
}

/** `--name value` or `--name=value` from the arguments given to `npm start --`. */
function flag(name) {
	const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
	if (i < 0) return undefined;
	return args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
}

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
