// Load generation against the local platform (127.0.0.1 only), bounded in time.
import autocannon from "autocannon";

/**
 * Drives one route for `duration` seconds with `connections` concurrent clients.
 * `setupRequest(req, context)` may vary each request (fresh idempotency keys, say); `onResponse(status,
 * context)` sees each answer with the context its setupRequest filled. `amount`: stop after this many
 * requests instead of after `duration`. `rate`: an open-loop total of requests per second (autocannon's
 * overallRate) instead of as fast as the connections allow, to read latency at a load below saturation.
 * `server`: p50/p99 of the Worker's own time where the route sends Server-Timing.
 * `per_connection`: answers per connection (min, p10, median, max), how fairly the server served the clients.
 * @returns {Promise<{ rps: number, p50: number, p99: number, max: number, total: number, statuses: Record<string, number>, errors: number, server: { count: number, p50: number | null, p99: number | null }, per_connection: { min: number, p10: number, median: number, max: number } }>}
 */
export async function drive({
	url,
	method = "GET",
	headers = {},
	body,
	connections = 64,
	duration = 5,
	amount,
	setupRequest,
	onResponse,
	rate,
}) {
	if (!/^http:\/\/127\.0\.0\.1:\d+/.test(url)) throw new Error(`load tests target 127.0.0.1 only, not ${url}`);
	const statuses = {};
	const server = [];
	const instance = autocannon({
		url,
		method,
		headers,
		body,
		connections,
		duration,
		amount,
		pipelining: 1,
		...(rate === undefined ? {} : { overallRate: rate }),
		requests: [
			{
				...(setupRequest ? { setupRequest } : {}),
				onResponse: (status, _body, context, resHeaders) => {
					statuses[status] = (statuses[status] ?? 0) + 1;
					const ms = serverMs(resHeaders);
					if (ms !== null) server.push(ms);
					onResponse?.(status, context);
				},
			},
		],
	});
	// Answers per connection: a fair server gives each of N closed-loop clients about total / N.
	const perConnection = new Map();
	instance.on("response", (client) => perConnection.set(client, (perConnection.get(client) ?? 0) + 1));
	const result = await instance;
	return {
		rps: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		max: result.latency.max,
		total: result.requests.total,
		statuses,
		errors: result.errors + result.timeouts,
		server: serverSummary(server),
		per_connection: fairness([...perConnection.values()], connections),
	};
}

/**
 * How evenly a server shared itself among `connections` closed-loop clients: answers per
 * connection (connections that got none count as 0) at min, p10, median and max.
 */
export function fairness(counts, connections) {
	const all = [...counts, ...Array(Math.max(0, connections - counts.length)).fill(0)].sort((a, b) => a - b);
	const at = (q) => all[Math.min(all.length - 1, Math.floor(q * all.length))] ?? 0;
	return { min: at(0), p10: at(0.1), median: at(0.5), max: all.at(-1) ?? 0 };
}

/**
 * The Worker's own milliseconds from a response's `Server-Timing: total;dur=…`, or null. Names are
 * matched in any case: node's http lowercases them, autocannon's onResponse keeps the wire's case.
 */
export function serverMs(resHeaders) {
	if (!resHeaders) return null;
	const name = Object.keys(resHeaders).find((k) => k.toLowerCase() === "server-timing");
	const timing = name === undefined ? null : /total;dur=([\d.]+)/.exec(String(resHeaders[name]));
	return timing ? Number(timing[1]) : null;
}

/** p50/p99 of Server-Timing samples (null without any: a route that does not time itself). */
export function serverSummary(samples) {
	return {
		count: samples.length,
		p50: samples.length ? percentile(samples, 0.5) : null,
		p99: samples.length ? percentile(samples, 0.99) : null,
	};
}

export function fmt(n, digits = 0) {
	return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * Open loop: requests start at a fixed arrival rate (`rate` per second, spread evenly), whether or
 * not earlier ones have answered, so a slow answer does not slow the arrivals and latency is the
 * service time plus the wire, not time queued inside the load generator (a closed loop at N clients
 * measures that queue once the server is saturated). At most `maxInFlight` requests are open: an
 * arrival past that is counted in `skipped`, not queued. `path(i)` may vary each request's path.
 * Also reads `Server-Timing: total;dur=…` (the server's own ms) and `headerCounts` named headers'
 * values (e.g. X-Suggest-Cache), and `latencyBy` the first one's value: p50/p99 per value. `lag_p99`: how late the generator started requests (ms past their
 * slot), which says whether the generator kept up.
 * @returns {Promise<{ rps: number, p50: number, p99: number, total: number, skipped: number, errors: number, statuses: Record<string, number>, server: { count: number, p50: number | null, p99: number | null }, lag_p99: number, headers: Record<string, Record<string, number>> }>}
 */
export async function driveOpen({ url, headers = {}, rate, duration = 5, maxInFlight = 100, path, headerCounts = [] }) {
	if (!/^http:\/\/127\.0\.0\.1:\d+/.test(url)) throw new Error(`load tests target 127.0.0.1 only, not ${url}`);
	const http = await import("node:http");
	const target = new URL(url);
	const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight, maxFreeSockets: maxInFlight });
	const latencies = [];
	const server = [];
	const lags = [];
	const statuses = {};
	const counted = Object.fromEntries(headerCounts.map((h) => [h, {}]));
	/** Latencies by the value of the first counted header (e.g. which cache answered). */
	const byValue = {};
	let inFlight = 0;
	let skipped = 0;
	let errors = 0;
	let issued = 0;
	const total = Math.floor(rate * duration);
	const started = performance.now();
	const one = (i) =>
		new Promise((resolve) => {
			const sent = performance.now();
			lags.push(sent - (started + (i * 1000) / rate));
			inFlight++;
			let value;
			const done = (ok) => {
				inFlight--;
				if (ok) {
					const ms = performance.now() - sent;
					latencies.push(ms);
					if (value !== undefined) (byValue[value] ??= []).push(ms);
				} else errors++;
				resolve();
			};
			const req = http.request(
				{
					host: target.hostname,
					port: target.port,
					path: path ? path(i) : target.pathname + target.search,
					headers,
					agent,
				},
				(res) => {
					statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
					const ms = serverMs(res.headers);
					if (ms !== null) server.push(ms);
					for (const h of headerCounts) {
						const v = String(res.headers[h.toLowerCase()] ?? "none");
						counted[h][v] = (counted[h][v] ?? 0) + 1;
						value ??= v;
					}
					res.on("data", () => {});
					res.on("end", () => done(true));
					res.on("error", () => done(false));
				},
			);
			req.on("error", () => done(false));
			req.end();
		});
	const pending = [];
	await new Promise((resolve) => {
		const tick = () => {
			const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
			for (; issued < due; issued++) {
				if (inFlight >= maxInFlight) skipped++;
				else pending.push(one(issued));
			}
			if (issued >= total) resolve();
			else setTimeout(tick, 1);
		};
		tick();
	});
	await Promise.all(pending);
	const elapsed = (performance.now() - started) / 1000;
	agent.destroy();
	return {
		rps: latencies.length / elapsed,
		p50: percentile(latencies, 0.5),
		p99: percentile(latencies, 0.99),
		total: latencies.length,
		skipped,
		errors,
		statuses,
		server: serverSummary(server),
		lag_p99: percentile(lags, 0.99),
		headers: counted,
		latencyBy: Object.fromEntries(
			Object.entries(byValue).map(([v, ms]) => [v, { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) }]),
		),
	};
}

/** The q-quantile of samples (ms), to one decimal. */
function percentile(samples, q) {
	if (samples.length === 0) return 0;
	const sorted = [...samples].sort((a, b) => a - b);
	return Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
}
