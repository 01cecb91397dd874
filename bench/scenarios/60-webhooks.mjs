// Webhook fan-out: one event to N endpoints (1,000 by default) that all point at one local Node
// receiver, through the real path (POST /api/v1/webhooks/events → fan-out message → one attempt
// message per delivery → signed POST). Figures: deliveries/s and p50/p99 from publish to receipt,
// against a plain fetch loop from Node to the same receiver (same concurrency as the consumer);
// lost and duplicated deliveries counted at the receiver per (endpoint, webhook-id); signatures
// checked with the standardwebhooks package. Loopback http is allowed through the scenario's vars.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

export const title = "Webhooks: one event to N endpoints on a local receiver";
export const vars = { OUTBOUND_ALLOW_LOOPBACK_HTTP: "true" };

/** The consumer runs 6 attempts at a time (queues/webhooks.ts): the baseline uses as many. */
const BASELINE_CONCURRENCY = 6;

export async function run({ url, admin, log }) {
	const endpoints = Number(process.env.BENCH_WEBHOOK_ENDPOINTS ?? 1_000);
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? 120);
	const receiver = await startReceiver();
	try {
		// An untimed pass first: a cold Node fetch loop measured ~5x slower at a few hundred requests.
		await plainFetchLoop(`${receiver.url}/warmup`, Math.min(endpoints, 300));
		const baseline = await plainFetchLoop(`${receiver.url}/baseline`, endpoints);
		log(`plain fetch loop: ${endpoints} requests at ${Math.round(baseline.perSecond)}/s`);
		receiver.received.length = 0;

		const tenant = await (await admin("POST", "/tenants", { name: "bench-webhooks" })).json();
		const headers = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
		const secrets = new Map();
		let next = 0;
		async function creator() {
			while (next < endpoints) {
				const i = next++;
				const body = JSON.stringify({ url: `${receiver.url}/ep/${i}`, event_types: ["bench.*"] });
				const res = await retrying(() => fetch(`${url}/api/v1/webhooks/endpoints`, { method: "POST", headers, body }));
				if (res.status !== 201) throw new Error(`endpoint ${i}: ${res.status} ${await res.text()}`);
				secrets.set(`/ep/${i}`, (await res.json()).secret);
			}
		}
		await Promise.all(Array.from({ length: 8 }, creator));
		log(`created ${endpoints} endpoints`);
		// Let every isolate's subscription cache (10 s) see all of them.
		await new Promise((r) => setTimeout(r, 11_000));

		const publishedAt = Date.now();
		const res = await fetch(`${url}/api/v1/webhooks/events`, {
			method: "POST",
			headers,
			body: JSON.stringify({ type: "bench.fanout", payload: { at: publishedAt } }),
		});
		if (res.status !== 202) throw new Error(`publish: ${res.status} ${await res.text()}`);
		const { event_id: eventId } = await res.json();
		const acceptedMs = Date.now() - publishedAt;
		const mine = () => receiver.received.filter((r) => r.id === eventId);
		while (new Set(mine().map((r) => r.path)).size < endpoints && Date.now() - publishedAt < maxSeconds * 1000) {
			await new Promise((r) => setTimeout(r, 100));
		}
		// A little longer, so late duplicates would be seen too.
		await new Promise((r) => setTimeout(r, 2_000));

		const got = mine();
		const distinct = new Set(got.map((r) => `${r.path} ${r.id}`));
		const badSignatures = got.filter((r) => !verifies(secrets.get(r.path), r)).length;
		const latencies = got.map((r) => r.at - publishedAt).sort((a, b) => a - b);
		const lastAt = Math.max(...got.map((r) => r.at));
		const perSecond = got.length > 0 ? distinct.size / ((lastAt - publishedAt) / 1000) : 0;
		const figures = {
			webhooks_endpoints: endpoints,
			webhooks_publish_accepted_ms: acceptedMs,
			webhooks_delivered: distinct.size,
			webhooks_lost: endpoints - distinct.size,
			webhooks_duplicated: got.length - distinct.size,
			webhooks_bad_signatures: badSignatures,
			webhooks_deliveries_per_s: Math.round(perSecond),
			webhooks_first_ms: latencies[0] ?? null,
			webhooks_p50_ms: pct(latencies, 50),
			webhooks_p99_ms: pct(latencies, 99),
			plain_fetch_per_s: Math.round(baseline.perSecond),
			webhooks_fanout_ratio: Number((perSecond / baseline.perSecond).toFixed(3)),
		};
		log(JSON.stringify(figures, null, 2));
		// Under `figures`, so bench/run.mjs merges them into latest.json's flat figures.
		return {
			figures,
			note: `baseline: Node fetch loop to the same receiver with the consumer's concurrency (${BASELINE_CONCURRENCY}); local Queues deliver one batch at a time`,
		};
	} finally {
		await receiver.close();
	}
}

function startReceiver() {
	const received = [];
	const server = createServer((req, res) => {
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			received.push({
				path: req.url,
				id: req.headers["webhook-id"],
				headers: { ...req.headers },
				body: Buffer.concat(chunks).toString("utf8"),
				at: Date.now(),
			});
			res.writeHead(200, { "content-type": "text/plain" }).end("ok");
		});
	});
	server.keepAliveTimeout = 30_000;
	return new Promise((resolve) => {
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address();
			resolve({
				url: `http://127.0.0.1:${port}`,
				received,
				close: () => new Promise((r) => server.close(() => r())),
			});
		});
	});
}

async function plainFetchLoop(target, total) {
	let next = 0;
	const started = Date.now();
	async function worker() {
		while (next < total) {
			next++;
			const res = await fetch(target, { method: "POST", body: JSON.stringify({ n: next }) });
			await res.arrayBuffer();
		}
	}
	await Promise.all(Array.from({ length: BASELINE_CONCURRENCY }, worker));
	return { perSecond: total / ((Date.now() - started) / 1000) };
}

/** Retries a request the gateway limiter answered 429, after its Retry-After. */
async function retrying(send) {
	for (let i = 0; ; i++) {
		const res = await send();
		if (res.status !== 429 || i >= 20) return res;
		await res.arrayBuffer();
		await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 1000));
	}
}

function verifies(secret, r) {
	try {
		new Webhook(secret).verify(r.body, r.headers);
		return true;
	} catch {
		return false;
	}
}

function pct(sorted, p) {
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}
