// The Worker started locally for Node-driven tests (e2e and browser): local D1 migrations applied,
// then wrangler's unstable_startWorker on 127.0.0.1 with an ephemeral port, and a tenant created
// through the admin API. One copy of the set-up for every file that drives the real runtime.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { unstable_startWorker } from "wrangler";
import { ensureDevVars } from "../../scripts/ensure-dev-vars.mjs";

/** The admin token of .dev.vars (created by ensureDevVars when missing). */
export function adminToken() {
	ensureDevVars();
	const token = parseEnv(readFileSync(".dev.vars", "utf8")).ADMIN_TOKEN;
	assert.ok(token, "ADMIN_TOKEN in .dev.vars (npm test creates it)");
	return token;
}

/**
 * Applies the local migrations and starts the Worker; `bindings` overrides vars (plain text).
 * Returns { worker, base } — dispose the worker in `after`.
 */
export async function startLocalWorker(bindings = {}) {
	const migrated = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
		stdio: "inherit",
		env: { ...process.env, CI: "true" },
	});
	assert.equal(migrated.status, 0, "local D1 migrations");
	const worker = await unstable_startWorker({
		config: "wrangler.toml",
		bindings: Object.fromEntries(
			Object.entries(bindings).map(([name, value]) => [name, { type: "plain_text", value: String(value) }]),
		),
		dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "warn" },
	});
	return { worker, base: (await worker.url).origin };
}

/** Creates a tenant named `<prefix>-<now>` through the admin API; returns its API key. */
export async function createTenant(base, prefix) {
	const res = await fetch(`${base}/api/v1/admin/tenants`, {
		method: "POST",
		headers: { Authorization: `Bearer ${adminToken()}`, "Content-Type": "application/json" },
		body: JSON.stringify({ name: `${prefix}-${Date.now()}` }),
	});
	assert.equal(res.status, 201, await res.clone().text());
	return (await res.json()).api_key;
}

/** Sums a counter family's samples in the Prometheus text of `GET /metrics` at `base`. */
export async function metricSum(base, name) {
	const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${adminToken()}` } });
	assert.equal(res.status, 200, "GET /metrics");
	let sum = 0;
	for (const line of (await res.text()).split("\n")) {
		if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(" ").at(-1));
	}
	return sum;
}
