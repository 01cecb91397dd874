// URL shortener (issue 17 §4): GET /s/{slug} req/s and p99 against the bare route GET /api/v1/health,
// alternated in rounds in one run. Redirects are not followed (autocannon counts the 302 and stops).
// The public redirect is limited per client IP (120/min, burst 240) and per link (1,000/s, burst
// 2,000), both counted by the gateway's RateLimiter objects. The platform reads the client IP from
// CF-Connecting-IP (set by Cloudflare's edge; locally nothing overwrites it), so the load comes from
// BENCH_SHORTENER_IPS client addresses (default 2,000, each well under its bucket over a run) spread
// over BENCH_SHORTENER_LINKS links (default 64, each well under its per-link rate): the figures
// measure the redirect path with both limiters running, not 429s. The run fails when over 1% of
// redirects answer something other than 302.
// shortener_redirect_ratio = redirect req/s / health req/s (goal >= 0.8).
import { drive, fmt } from "../lib/load.mjs";
import { unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "URL shortener: GET /s/{slug} redirects vs the bare health route";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LINKS = Number(process.env.BENCH_SHORTENER_LINKS ?? 64);
const IPS = Number(process.env.BENCH_SHORTENER_IPS ?? 2000);
// The limiter answers a new client from the isolate and charges its RateLimiter object in the
// background (src/shortener/redirect-limiter.ts): the warm-up's object calls finish during this pause,
// not inside the first measured round (they would otherwise share the 2 cores with it).
const SETTLE_MS = Number(process.env.BENCH_SHORTENER_SETTLE_MS ?? 3000);

export async function run({ url, admin, log }) {
	const { headers } = await unlimitedTenant(admin, "bench-shortener");
	const slugs = [];
	for (let i = 0; i < LINKS; i++) {
		const res = await fetch(`${url}/api/v1/links`, {
			method: "POST",
			headers,
			body: JSON.stringify({ url: `https://example.com/landing/${i}?utm_source=bench` }),
		});
		if (res.status !== 201) throw new Error(`link creation failed: ${res.status} ${await res.text()}`);
		slugs.push((await res.json()).slug);
	}
	log(`created ${LINKS} links; clients spread over ${fmt(IPS)} addresses`);

	// Every request of both routes carries a client address from the same pool, so the two differ
	// only in the route.
	let n = 0;
	const setup = (route) => (req) => {
		const i = n++;
		const ip = `10.${(i % IPS) >> 16}.${((i % IPS) >> 8) & 255}.${(i % IPS) & 255}`;
		return {
			...req,
			path: route(i),
			headers: { ...req.headers, "cf-connecting-ip": ip },
		};
	};
	const bare = setup(() => "/api/v1/health");
	const redirect = setup((i) => `/s/${slugs[i % LINKS]}`);
	// One warm-up pass: every link resolved into the isolate cache, every client's first limiter call.
	await drive({ url: `${url}/s/${slugs[0]}`, connections: CONNECTIONS, amount: IPS, setupRequest: redirect });
	await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

	const rounds = [];
	for (let r = 0; r < ROUNDS; r++) {
		const health = await drive({
			url: `${url}/api/v1/health`,
			connections: CONNECTIONS,
			duration: SECONDS,
			setupRequest: bare,
		});
		const redirects = await drive({
			url: `${url}/s/${slugs[0]}`,
			connections: CONNECTIONS,
			duration: SECONDS,
			setupRequest: redirect,
		});
		const round = {
			health_rps: Math.round(health.rps),
			health_p99_ms: health.p99,
			redirect_rps: Math.round(redirects.rps),
			redirect_p50_ms: redirects.p50,
			redirect_p99_ms: redirects.p99,
			redirect_statuses: redirects.statuses,
			ratio: Number((redirects.rps / health.rps).toFixed(3)),
		};
		log(
			`round ${r + 1}: health ${fmt(health.rps)} req/s p99 ${health.p99} ms; redirect ${fmt(redirects.rps)} req/s p50 ${redirects.p50} / p99 ${redirects.p99} ms; ratio ${round.ratio}; statuses ${JSON.stringify(redirects.statuses)}`,
		);
		const other = redirects.total - (redirects.statuses[302] ?? 0);
		if (other > redirects.total / 100) throw new Error(`redirects answered ${JSON.stringify(redirects.statuses)}`);
		rounds.push(round);
	}
	const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
	return {
		links: LINKS,
		client_ips: IPS,
		connections: CONNECTIONS,
		rounds,
		figures: {
			shortener_redirect_ratio: median(rounds.map((r) => r.ratio)),
			shortener_redirect_rps: median(rounds.map((r) => r.redirect_rps)),
			shortener_redirect_p99_ms: median(rounds.map((r) => r.redirect_p99_ms)),
		},
	};
}
