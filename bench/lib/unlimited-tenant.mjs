// A bench tenant without gateway limits (the platform defaults cap a tenant at 200 req/s, which
// would measure the limiter instead of the feature), and a loop driver for request chains that
// autocannon cannot express (acquire then release with the token the first answer gave).

/** Creates a tenant, clears its gateway limits; returns { tenantId, apiKey, headers }. */
export async function unlimitedTenant(admin, name) {
	const created = await (await admin("POST", "/tenants", { name })).json();
	const res = await admin("PUT", `/tenants/${created.tenant_id}/limits`, { rules: [] });
	if (res.status !== 200) throw new Error(`limits: ${res.status} ${await res.text()}`);
	return {
		tenantId: created.tenant_id,
		apiKey: created.api_key,
		headers: { authorization: `Bearer ${created.api_key}`, "content-type": "application/json" },
	};
}

/**
 * Runs `step(client, i)` in a loop on `clients` concurrent clients for `seconds`; each step returns
 * true when it counted (a completed round trip). Returns completed steps per second and p50/p99 ms.
 */
export async function loop({ clients, seconds, step }) {
	const deadline = Date.now() + seconds * 1000;
	const latencies = [];
	let failed = 0;
	const started = Date.now();
	await Promise.all(
		Array.from({ length: clients }, async (_, client) => {
			for (let i = 0; Date.now() < deadline; i++) {
				const t0 = performance.now();
				const ok = await step(client, i);
				if (ok) latencies.push(performance.now() - t0);
				else failed++;
			}
		}),
	);
	const elapsed = (Date.now() - started) / 1000;
	latencies.sort((a, b) => a - b);
	const at = (q) =>
		Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1));
	return { per_s: latencies.length / elapsed, completed: latencies.length, failed, p50: at(0.5), p99: at(0.99) };
}
