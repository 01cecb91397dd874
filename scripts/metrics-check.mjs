// `npm test` (after lint:openapi): GET /metrics as the running app serves it (local D1 migrated,
// the Worker started locally through wrangler's API, the admin token from .dev.vars), checked by
// `promtool check metrics` (Debian package `prometheus`). The workerd tests parse the same
// format a second way (test/integration/metrics/exposition.test.ts).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";

const promtool = spawnSync("promtool", ["--version"], { stdio: "ignore" });
if (promtool.error || promtool.status !== 0) {
	const reason = "SKIPPED metrics-check: promtool not found (install the Debian package `prometheus`; .ci/run does).";
	console.warn(reason);
	// CI must not pass without the check it promises.
	process.exit(process.env.CI ? 1 : 0);
}

const adminToken = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
if (!adminToken) throw new Error(".dev.vars has no ADMIN_TOKEN (run node scripts/ensure-dev-vars.mjs)");

// The local D1 (.wrangler/state, as `npm start` uses it) must have the tables GET /metrics reads;
// CI=true makes wrangler apply without asking.
const migrated = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], {
	stdio: ["ignore", "ignore", "inherit"],
	shell: process.platform === "win32",
	env: { ...process.env, CI: "true" },
});
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

const worker = await unstable_startWorker({
	config: "wrangler.toml",
	dev: { server: { port: 0 }, inspector: false, watch: false, logLevel: "warn" },
});
let text;
try {
	// One request first, so the requests family has samples to check.
	await worker.fetch("http://localhost/api/v1/health");
	const res = await worker.fetch("http://localhost/metrics", { headers: { Authorization: `Bearer ${adminToken}` } });
	text = await res.text();
	if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
} finally {
	await worker.dispose();
}

const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
process.stdout.write(check.stdout ?? "");
process.stderr.write(check.stderr ?? "");
if (check.status !== 0) {
	console.error("promtool check metrics failed on GET /metrics");
	process.exit(check.status ?? 1);
}
console.log(
	`promtool check metrics: GET /metrics is valid (${text.split("\n").filter((l) => l && !l.startsWith("#")).length} samples)`,
);
