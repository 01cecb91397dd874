// Idempotency-Key coalescing in the real runtime. The vitest pool turns off workerd's cross-request
// promise resolution, which the home-shard coalescer's hand-off needs (on in production), so this
// starts the Worker with wrangler (unstable_startWorker) and sends concurrent POSTs with fresh keys:
// every one must be answered 201, each key must replay its own response afterwards, a concurrent
// duplicate must get 409 or the same response (never a second effect), and GET /metrics must show
// the shard calls rode shared RPCs (well under the two RPCs per request of one-by-one calls).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTenant, metricSum, startLocalWorker } from "./local-worker.mjs";

const REQUESTS = 300;
const DUPLICATES = 60;

let worker;
let base;
let apiKey;

before(async () => {
	({ worker, base } = await startLocalWorker(
		process.env.E2E_SHARDS ? { IDEMPOTENCY_SHARDS: process.env.E2E_SHARDS } : {},
	));
	apiKey = await createTenant(base, "idem-coalesce-e2e");
});

after(async () => {
	await worker?.dispose();
});

const metric = (name) => metricSum(base, name);

async function echo(key, body) {
	const res = await fetch(`${base}/api/v1/echo`, {
		method: "POST",
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json", "Idempotency-Key": key },
		body: JSON.stringify(body),
	});
	return { status: res.status, replayed: res.headers.get("Idempotent-Replayed"), body: await res.json() };
}

const figures = async () => ({
	calls: await metric("floodgate_idempotency_shard_calls_total"),
	rpcs: await metric("floodgate_idempotency_shard_rpcs_total"),
});

void test("concurrent fresh keys share shard RPCs, and each key keeps its own single outcome", async () => {
	const run = Date.now();
	const start = await figures();
	const firsts = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => echo(`c-${run}-${i}`, { i })));
	assert.deepEqual(
		firsts.filter((a) => a.status !== 201 || a.replayed !== null),
		[],
		"every fresh key answered 201, not replayed",
	);
	const end = await figures();
	const calls = end.calls - start.calls;
	const rpcs = end.rpcs - start.rpcs;
	console.log(`# idempotency coalescing: ${REQUESTS} requests, ${calls} shard calls in ${rpcs} RPCs`);
	assert.equal(calls, 2 * REQUESTS, "a begin and a complete per fresh request");
	assert.ok(rpcs < REQUESTS, `${calls} calls in ${rpcs} RPCs: under one RPC per request, not two`);

	const replays = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => echo(`c-${run}-${i}`, { i })));
	for (const [i, r] of replays.entries()) {
		assert.equal(r.status, 201, `key ${i} replayed`);
		assert.equal(r.replayed, "true", `key ${i} says it is a replay`);
		assert.equal(r.body.echo_id, firsts[i].body.echo_id, `key ${i} replays its own response`);
	}
});

void test("a concurrent duplicate gets 409 or the same response, another body 422, never a second effect", async () => {
	const run = Date.now();
	const answers = await Promise.all(
		Array.from({ length: DUPLICATES }, (_, i) =>
			Promise.all([
				echo(`d-${run}-${i}`, { i }),
				echo(`d-${run}-${i}`, { i }),
				echo(`d-${run}-${i}`, { i, other: true }),
			]),
		),
	);
	for (const [i, trio] of answers.entries()) {
		// Whichever of the three reached the shard first ran; the others were told it runs (409),
		// replayed it (201, same echo_id) or, with the other body, refused (422).
		for (const r of trio) assert.ok([201, 409, 422].includes(r.status), `key ${i}: ${r.status}`);
		const ran = trio.filter((r) => r.status === 201);
		assert.ok(ran.length >= 1 || trio.some((r) => r.status === 409), `key ${i}: one of them ran`);
		assert.ok(new Set(ran.map((r) => r.body.echo_id)).size <= 1, `key ${i}: one effect, never two`);
		const [twin, , other] = trio;
		if (ran.length === 0) continue;
		const winner = ran[0].body.body;
		const again = await echo(`d-${run}-${i}`, winner);
		assert.equal(again.body.echo_id, ran[0].body.echo_id, `key ${i}: the stored response is the one effect`);
		assert.ok(twin.status !== 422 || other.status !== 422, `key ${i}: not both bodies refused`);
	}
});
