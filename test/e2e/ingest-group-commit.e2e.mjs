// `npm run test:e2e`: ingest group commit in the real runtime. The vitest pool turns off workerd's
// cross-request promise resolution, which the coalescer's hand-off needs (on in production), so this
// starts the Worker with wrangler (unstable_startWorker) on 127.0.0.1 and sends concurrent single
// location updates: every one must be answered 202, every 202 must land in D1 exactly once, and
// GET /metrics must show the messages rode shared sendBatch calls (more than one per batch).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { parseEnv } from "node:util";
import { unstable_startWorker } from "wrangler";
import { ensureDevVars } from "../../scripts/ensure-dev-vars.mjs";

const UPDATES = 400;
ensureDevVars();
const env = parseEnv(readFileSync(".dev.vars", "utf8"));

let worker;
let base;
let apiKey;

before(async () => {
	const migrated = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
		stdio: "inherit",
		env: { ...process.env, CI: "true" },
	});
	assert.equal(migrated.status, 0, "local D1 migrations");
	worker = await unstable_startWorker({
		config: "wrangler.toml",
		dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "warn" },
	});
	base = (await worker.url).origin;
	const res = await fetch(`${base}/api/v1/admin/tenants`, {
		method: "POST",
		headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
		body: JSON.stringify({ name: `group-commit-e2e-${Date.now()}` }),
	});
	assert.equal(res.status, 201, await res.clone().text());
	apiKey = (await res.json()).api_key;
});

after(async () => {
	await worker?.dispose();
});

/** Sums a counter family's samples in the Prometheus text of GET /metrics. */
async function metric(name) {
	const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } });
	assert.equal(res.status, 200, "GET /metrics");
	let sum = 0;
	for (const line of (await res.text()).split("\n")) {
		if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(" ").at(-1));
	}
	return sum;
}

async function api(method, path, body) {
	const res = await fetch(`${base}${path}`, {
		method,
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, body: await res.json() };
}

void test("concurrent single updates share sendBatch calls and each 202 lands exactly once", async () => {
	const start = {
		messages: await metric("floodgate_queue_group_commit_messages_total"),
		batches: await metric("floodgate_queue_group_commit_batches_total"),
	};
	const now = Date.now();
	const answers = await Promise.all(
		Array.from({ length: UPDATES }, (_, i) =>
			api("POST", "/api/v1/location/update", {
				truck_id: `gc-${i % 20}`,
				lat: 52.5,
				lng: 13.4,
				recorded_at: new Date(now - i * 1000).toISOString(),
			}),
		),
	);
	assert.deepEqual(
		answers.filter((a) => a.status !== 202),
		[],
		"every concurrent update answered 202",
	);
	const messages = (await metric("floodgate_queue_group_commit_messages_total")) - start.messages;
	const batches = (await metric("floodgate_queue_group_commit_batches_total")) - start.batches;
	assert.equal(messages, UPDATES, "each update went through group commit once");
	assert.ok(batches < UPDATES / 2, `${UPDATES} messages in ${batches} sendBatch calls: shared, not one each`);
	console.log(`# group commit: ${messages} messages in ${batches} sendBatch calls`);

	const deadline = Date.now() + 60_000;
	let stats;
	while (Date.now() < deadline) {
		stats = (await api("GET", "/api/v1/stats")).body;
		if (stats.processed >= UPDATES) break;
		await new Promise((r) => setTimeout(r, 250));
	}
	assert.equal(stats.processed, UPDATES, "every accepted update was written, none twice");
	assert.equal(stats.received, UPDATES);
	assert.equal(stats.rejected, 0);
});
