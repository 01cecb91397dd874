// Load generation against the local platform (127.0.0.1 only), bounded in time.
import autocannon from "autocannon";

/**
 * Drives one route for `duration` seconds with `connections` concurrent clients.
 * `setupRequest` may vary each request (fresh idempotency keys, say). `amount`: stop after this many
 * requests instead of after `duration`. `rate`: an open-loop total of requests per second (autocannon's
 * overallRate) instead of as fast as the connections allow, to read latency at a load below saturation.
 * @returns {Promise<{ rps: number, p50: number, p99: number, total: number, statuses: Record<string, number>, errors: number }>}
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
	rate,
}) {
	if (!/^http:\/\/127\.0\.0\.1:\d+/.test(url)) throw new Error(`load tests target 127.0.0.1 only, not ${url}`);
	const statuses = {};
	const result = await autocannon({
		url,
		method,
		headers,
		body,
		connections,
		duration,
		amount,
		pipelining: 1,
		...(rate === undefined ? {} : { overallRate: rate }),
		requests: setupRequest ? [{ setupRequest }] : undefined,
		setupClient: (client) => {
			client.on("response", (status) => {
				statuses[status] = (statuses[status] ?? 0) + 1;
			});
		},
	});
	return {
		rps: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		total: result.requests.total,
		statuses,
		errors: result.errors + result.timeouts,
	};
}

export function fmt(n, digits = 0) {
	return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
