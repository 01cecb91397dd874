// Idempotency-Key coalescing under sustained load, on the bench's runtime (Miniflare with a direct
// workerd socket: ~1,000 fresh keys/s here, where wrangler's dev proxy gives ~100). For longer than
// the coalescer's wait limit (10 s): every waiter's timer must be cleared from its own request's
// context. Cleared from the sender's context (another request), the timers stayed armed, and once
// they fired under load, answers failed with "Cannot perform I/O on behalf of a different request
// (ReadableStreamSource)" — found by the bench's distinct-keys run at ~3,000 keys; this test
// failed the same way before the fix.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { drive } from "../../bench/lib/load.mjs";
import { adminClient, startPlatform } from "../../bench/lib/platform.mjs";

const SECONDS = 14;

let platform;

/** A free loopback port for the direct socket. */
async function freePort() {
	const server = createServer();
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
}

before(async () => {
	platform = await startPlatform({
		root: process.cwd(),
		port: await freePort(),
		vars: { IDEMPOTENCY_LEGACY_UNTIL: "" },
		consumers: false,
	});
});

after(async () => {
	await platform?.stop();
});

void test(`fresh keys for ${SECONDS} s past the wait limit: every one answered 201`, async () => {
	const admin = adminClient(platform.url);
	const created = await admin("POST", "/tenants", { name: `idem-load-${Date.now()}` });
	assert.equal(created.status, 201, "tenant created");
	const { tenant_id: tenantId, api_key: apiKey } = await created.json();
	assert.equal((await admin("PUT", `/tenants/${tenantId}/limits`, { rules: [] })).status, 200, "limits off");

	let n = 0;
	const result = await drive({
		url: `${platform.url}/api/v1/echo`,
		method: "POST",
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
		body: JSON.stringify({ machine_id: "vm-e2e", slot: "A1", quantity: 1 }),
		connections: 64,
		duration: SECONDS,
		setupRequest: (req) => ({ ...req, headers: { ...req.headers, "idempotency-key": `load-${n++}` } }),
	});
	console.log(
		`# ${result.total} fresh keys in ${SECONDS} s (${Math.round(result.rps)}/s), statuses ${JSON.stringify(result.statuses)}`,
	);
	assert.deepEqual(Object.keys(result.statuses), ["201"], "only 201s");
	assert.equal(result.errors, 0, "no client error or timeout");
	assert.ok(result.total > 10 * SECONDS * 50, `enough load to overlap the wait limit (${result.total} requests)`);
});
