// API gateway (issue 16, part 4): GET through /gw/{tenant}/{path} to a local Node upstream against
// the same GET straight to that upstream, alternated in rounds in one run. The upstream runs in a
// child process so the load generator does not share its event loop. The gateway may call
// http://127.0.0.1 only because this scenario starts the platform with OUTBOUND_ALLOW_LOOPBACK_HTTP
// (and ENVIRONMENT=development, which the deployment guard requires for it); production refuses both.
// apigw_ratio = proxied req/s / direct req/s (goal >= 0.7); p99 overhead = proxied p99 - direct p99
// (goal <= 5 ms). A cached variant (cache_ttl, Floodgate-Cache: HIT) is reported alongside.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { drive, fmt } from "../lib/load.mjs";
import { startScriptWorker } from "../lib/script-worker.mjs";
import { unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "API gateway: proxied vs direct calls to the same local upstream";
export const vars = { ENVIRONMENT: "development", OUTBOUND_ALLOW_LOOPBACK_HTTP: "true" };

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const UPSTREAM = `
const http = require("node:http");
const body = JSON.stringify({ ok: true, items: Array.from({ length: 10 }, (_, i) => ({ id: i, name: "item-" + i })) });
const server = http.createServer((req, res) => {
	res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" });
	res.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

// The runtime's own cost of a proxied call: a six-line Worker in the same workerd build that only
// fetches the upstream and returns its body. What the gateway adds is measured against this too.
const MINIMAL_PROXY = `export default {
	async fetch(req, env) {
		const u = new URL(req.url);
		const r = await fetch(env.UPSTREAM + u.pathname);
		return new Response(r.body, { status: r.status, headers: r.headers });
	},
};`;

function startMinimalProxy(upstream) {
	return startScriptWorker({ name: "minimal-proxy", script: MINIMAL_PROXY, bindings: { UPSTREAM: upstream } });
}

export async function run({ url, admin, log }) {
	const child = spawn(process.execPath, ["-e", UPSTREAM], { stdio: ["ignore", "pipe", "inherit"] });
	try {
		const [chunk] = await once(child.stdout, "data");
		const upstream = `http://127.0.0.1:${Number(String(chunk).trim())}`;
		const { tenantId, headers } = await unlimitedTenant(admin, "bench-apigw");
		for (const { name, extra } of [
			{ name: "direct", extra: {} },
			{ name: "cached", extra: { cache_ttl: 60 } },
		]) {
			const res = await fetch(`${url}/api/v1/gateway/routes/${name}`, {
				method: "PUT",
				headers,
				body: JSON.stringify({
					path_prefix: `/${name}`,
					upstreams: [{ url: upstream, weight: 1 }],
					strip_prefix: true,
					auth: "none",
					retries: 0,
					...extra,
				}),
			});
			if (res.status !== 200) throw new Error(`route ${name}: ${res.status} ${await res.text()}`);
		}
		const go = (target, duration) => drive({ url: target, connections: CONNECTIONS, duration });
		const direct = `${upstream}/items`;
		const proxied = `${url}/gw/${tenantId}/direct/items`;
		const cached = `${url}/gw/${tenantId}/cached/items`;
		const check = await fetch(proxied);
		if (check.status !== 200) throw new Error(`proxy check: ${check.status} ${await check.text()}`);
		await go(direct, 2);
		await go(proxied, 3);
		await go(cached, 3);
		const d = [];
		const p = [];
		const c = [];
		for (let round = 0; round < ROUNDS; round++) {
			d.push(await go(direct, SECONDS / 2));
			p.push(await go(proxied, SECONDS / 2));
			c.push(await go(cached, SECONDS / 2));
		}
		const sum = (runs) => ({
			rps: runs.reduce((s, r) => s + r.rps, 0) / runs.length,
			p50: Math.max(...runs.map((r) => r.p50)),
			p99: Math.max(...runs.map((r) => r.p99)),
			non2xx: runs.reduce((s, r) => s + r.total - (r.statuses[200] ?? 0), 0),
		});
		const [dd, pp, cc] = [sum(d), sum(p), sum(c)];
		const ratio = pp.rps / dd.rps;
		const overhead = pp.p99 - dd.p99;
		// Context for the closed-loop ratio: the same workerd answering a bare route (no upstream,
		// no proxy) bounds what a proxy inside it can reach on this machine; and the latency the
		// gateway adds at a load below saturation (half the proxied maximum, open loop, same rate
		// both ways), where queueing does not swamp the proxy's own cost.
		const bare = await go(`${url}/api/v1/health`, SECONDS / 2);
		const minimal = await startMinimalProxy(upstream);
		let mp;
		try {
			await go(`${minimal.url}/items`, 2);
			mp = await go(`${minimal.url}/items`, SECONDS / 2);
		} finally {
			await minimal.stop();
		}
		const rate = Math.max(100, Math.round(pp.rps / 2));
		const atRate = (target) => drive({ url: target, connections: CONNECTIONS, duration: SECONDS / 2, rate });
		const dr = await atRate(direct);
		const pr = await atRate(proxied);
		const overheadAtRate = { rate, p50_ms: pr.p50 - dr.p50, p99_ms: pr.p99 - dr.p99, direct: dr, proxied: pr };
		log(`direct:         ${fmt(dd.rps)} req/s  p50 ${dd.p50} ms  p99 ${dd.p99} ms`);
		log(`through gateway: ${fmt(pp.rps)} req/s  p50 ${pp.p50} ms  p99 ${pp.p99} ms  (${pp.non2xx} non-200)`);
		log(`cached (HIT):    ${fmt(cc.rps)} req/s  p50 ${cc.p50} ms  p99 ${cc.p99} ms  (${cc.non2xx} non-200)`);
		log(`apigw_ratio ${fmt(ratio, 2)} (goal >= 0.70); p99 overhead ${fmt(overhead, 1)} ms (goal <= 5 ms)`);
		log(
			`bare workerd route: ${fmt(bare.rps)} req/s → proxied / bare route = ${fmt(pp.rps / bare.rps, 2)} (the runtime's ceiling here)`,
		);
		log(
			`minimal fetch-proxy Worker in workerd: ${fmt(mp.rps)} req/s p50 ${mp.p50} ms p99 ${mp.p99} ms → its / direct = ${fmt(mp.rps / dd.rps, 2)} (the runtime's proxy ceiling); gateway / minimal proxy = ${fmt(pp.rps / mp.rps, 2)} (what our code keeps of it)`,
		);
		log(
			`at ${fmt(rate)} req/s both ways (open loop): added p50 ${fmt(overheadAtRate.p50_ms, 1)} ms, added p99 ${fmt(overheadAtRate.p99_ms, 1)} ms`,
		);
		return {
			figures: {
				apigw_ratio: Number(ratio.toFixed(3)),
				apigw_p99_overhead_ms: overhead,
				apigw_proxied_vs_bare_route: Number((pp.rps / bare.rps).toFixed(3)),
				apigw_added_p99_ms_at_half_load: overheadAtRate.p99_ms,
				apigw_minimal_proxy_vs_direct: Number((mp.rps / dd.rps).toFixed(3)),
				apigw_vs_minimal_proxy: Number((pp.rps / mp.rps).toFixed(3)),
			},
			minimal_proxy: { rps: mp.rps, p50: mp.p50, p99: mp.p99 },
			connections: CONNECTIONS,
			direct: dd,
			proxied: pp,
			cached: cc,
			apigw_ratio: Number(ratio.toFixed(3)),
			p99_overhead_ms: overhead,
			bare_route: { rps: bare.rps, p50: bare.p50, p99: bare.p99 },
			proxied_vs_bare_route: Number((pp.rps / bare.rps).toFixed(3)),
			at_rate: overheadAtRate,
		};
	} finally {
		child.kill();
	}
}
