// `npm run test:e2e`: ingest group commit in the real runtime. The vitest pool turns off workerd's
// cross-request promise resolution, which the coalescer's hand-off needs (on in production), so this
// starts the Worker with wrangler (unstable_startWorker) on 127.0.0.1 and sends concurrent single
// location updates: every one must be answered 202, every 202 must land in D1 exactly once, and
// GET /metrics must show the messages rode shared sendBatch calls (more than one per batch) and were
// packed several points to a queue message.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTenant, metricSum, startLocalWorker } from "./local-worker.mjs";

const UPDATES = 400;

let worker;
let base;
let apiKey;

before(async () => {
	({ worker, base } = await startLocalWorker());
	apiKey = await createTenant(base, "group-commit-e2e");
});

after(async () => {
	await worker?.dispose();
});

const metric = (name) => metricSum(base, name);

async function api(method, path, body) {
	const res = await fetch(`${base}${path}`, {
		method,
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, body: await res.json() };
}

void test("concurrent single updates share sendBatch calls and queue messages, and each 202 lands exactly once", async () => {
	const start = {
		messages: await metric("floodgate_queue_group_commit_messages_total"),
		packed: await metric("floodgate_queue_group_commit_packed_messages_total"),
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
	const packed = (await metric("floodgate_queue_group_commit_packed_messages_total")) - start.packed;
	const batches = (await metric("floodgate_queue_group_commit_batches_total")) - start.batches;
	assert.equal(messages, UPDATES, "each update went through group commit once");
	assert.ok(batches < UPDATES / 2, `${UPDATES} messages in ${batches} sendBatch calls: shared, not one each`);
	assert.ok(packed >= Math.ceil(UPDATES / 25), "no queue message carries more than 25 points");
	assert.ok(packed < UPDATES / 4, `${UPDATES} single-point messages packed into ${packed} queue messages`);
	console.log(
		`# group commit: ${messages} messages packed into ${packed} queue messages in ${batches} sendBatch calls`,
	);

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

	// Each truck's track holds exactly its 20 points, each once, received when its request was.
	for (let t = 0; t < 20; t++) {
		const track = await api("GET", `/api/v1/trucks/gc-${t}/track?limit=1000`);
		assert.equal(track.status, 200);
		const times = track.body.points.map((p) => Date.parse(p.recorded_at)).sort((a, b) => a - b);
		const expected = Array.from({ length: UPDATES / 20 }, (_, k) => now - (t + 20 * k) * 1000).sort((a, b) => a - b);
		assert.deepEqual(times, expected, `truck gc-${t}: every accepted point landed, once`);
		for (const p of track.body.points) {
			const received = Date.parse(p.received_at);
			assert.ok(received >= now && received <= Date.now(), "each point keeps its own request's received_at");
		}
	}
});
