// End-user accounts (issue 17 §1): login throughput and p99 (one Argon2id hash, m=19 MiB, t=2, p=1,
// per login), the hash's cost (serial login p50 minus a bare route's p50), and an authenticated
// GET /api/v1/auth/me (ES256 JWT verification + cached session check) against GET /api/v1/health.
// Each login comes from its own CF-Connecting-IP and users are cycled, so the login throttles
// (10 per account per 15 min, 30 per IP per minute) stay out of the figures.
import { drive, fmt } from "../lib/load.mjs";

export const title = "Accounts: login req/s and p99, Argon2id cost, JWT-authenticated route vs bare route";

const USERS = Number(process.env.BENCH_AUTH_USERS ?? 100);
const PASSWORD = "bench correct horse battery";

export async function run({ url, admin, log }) {
	const seconds = Number(process.env.BENCH_SECONDS ?? 8);
	const created = await admin("POST", "/tenants", { name: "bench-accounts" });
	if (created.status !== 201) throw new Error(`tenant creation failed: ${created.status}`);
	const { tenant_id: tenantId } = await created.json();
	const json = { "content-type": "application/json", "floodgate-tenant": tenantId };

	let ip = 0;
	const nextIp = () => {
		ip++;
		return `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;
	};
	const users = [];
	let accessToken = "";
	for (let i = 0; i < USERS; i++) {
		const username = `bench${i}${Date.now().toString(36)}`;
		const res = await fetch(`${url}/api/v1/auth/signup`, {
			method: "POST",
			headers: { ...json, "cf-connecting-ip": nextIp() },
			body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
		});
		if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
		accessToken = (await res.json()).tokens.access_token;
		users.push(username);
	}

	let n = 0;
	const loginRequest = (req) => ({
		...req,
		headers: { ...req.headers, "cf-connecting-ip": nextIp() },
		body: JSON.stringify({ login: users[n++ % users.length], password: PASSWORD }),
	});
	const login = (connections, duration) =>
		drive({
			url: `${url}/api/v1/auth/login`,
			method: "POST",
			headers: json,
			connections,
			duration,
			setupRequest: loginRequest,
		});

	const health = await drive({ url: `${url}/api/v1/health`, connections: 1, duration: Math.max(2, seconds / 2) });
	const serial = await login(1, seconds);
	const parallel = await login(16, seconds);
	log(`serial login: ${fmt(serial.rps, 1)} req/s, p50 ${serial.p50} ms (health p50 ${health.p50} ms)`);
	log(
		`16 clients:   ${fmt(parallel.rps, 1)} req/s, p50 ${parallel.p50} ms, p99 ${parallel.p99} ms, ${JSON.stringify(parallel.statuses)}`,
	);

	const bare = await drive({ url: `${url}/api/v1/health`, connections: 64, duration: seconds });
	const me = await drive({
		url: `${url}/api/v1/auth/me`,
		headers: { authorization: `Bearer ${accessToken}` },
		connections: 64,
		duration: seconds,
	});
	log(`GET /health ${fmt(bare.rps)} req/s; GET /auth/me (JWT) ${fmt(me.rps)} req/s, p99 ${me.p99} ms`);

	return {
		users: USERS,
		hash_cost_ms: Math.max(0, serial.p50 - health.p50),
		login_serial_rps: round(serial.rps),
		login_rps: round(parallel.rps),
		login_p50_ms: parallel.p50,
		login_p99_ms: parallel.p99,
		login_statuses: parallel.statuses,
		me_rps: Math.round(me.rps),
		me_p99_ms: me.p99,
		health_rps: Math.round(bare.rps),
		me_over_health: round(me.rps / bare.rps),
	};
}

function round(x) {
	return Math.round(x * 100) / 100;
}
