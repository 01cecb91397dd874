// One simulated night: every machine sends its report through the device client at its simulated
// time, in simulated-time order, with bounded concurrency. Each client has its own virtual clock
// that starts at the machine's report time and advances by the client's own waits (backoff,
// Retry-After); a simulated wait costs 1/compression of it in real time.
import { addArrival } from "./histogram.mjs";
import { seededRandom } from "./fleet.mjs";

/**
 * @param {object} o
 * @param {string} o.url platform base URL (127.0.0.1)
 * @param {Array<{machine: object, token: string, at: number, report: object}>} o.jobs
 * @param {number} o.concurrency
 * @param {number} o.compression simulated ms per real ms for waits
 * @param {number} o.failureRate share of attempts that fail transiently (half 503 before the server, half response dropped after it)
 * @param {object} o.client the bundled client module ({DeviceClient, memoryStorage})
 * @param {number} o.seed
 */
export async function runNight({ url, jobs, concurrency, compression, failureRate, client, seed }) {
	if (!/^http:\/\/127\.0\.0\.1:\d+/.test(url)) throw new Error(`the simulation targets 127.0.0.1 only, not ${url}`);
	const { DeviceClient, memoryStorage } = client;
	const sorted = [...jobs].sort((a, b) => a.at - b.at);
	const faults = seededRandom(seed);
	const stats = {
		attempts: 0,
		injected503: 0,
		droppedAfterAccept: 0,
		serverAccepted: 0,
		clientAccepted: 0,
		retries: 0,
		gaveUp: 0,
		rejected: 0,
		statuses: {},
	};
	const arrivals = new Map();
	const arrivalsByZone = new Map();
	let next = 0;
	let lastAcceptedReal = 0;

	async function sendOne(job) {
		let simNow = job.at;
		const clock = {
			now: () => simNow,
			sleep: async (ms) => {
				simNow += ms;
				await new Promise((r) => setTimeout(r, Math.min(2000, ms / compression)));
			},
		};
		let acceptedAt = null;
		const faultyFetch = async (input, init) => {
			stats.attempts += 1;
			const r = faults();
			if (r < failureRate / 2) {
				stats.injected503 += 1;
				return new Response(JSON.stringify({ error: { code: "injected", message: "synthetic outage" } }), {
					status: 503,
					headers: { "Retry-After": "1", "Content-Type": "application/json" },
				});
			}
			const res = await fetch(input, init);
			stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
			if (res.ok) stats.serverAccepted += 1;
			if (r < failureRate) {
				// The platform took it (or not); the device never hears back: the resend must not duplicate.
				await res.arrayBuffer();
				stats.droppedAfterAccept += res.ok ? 1 : 0;
				throw new TypeError("connection reset (injected)");
			}
			if (res.ok) acceptedAt = simNow;
			return res;
		};
		const device = new DeviceClient({
			baseUrl: url,
			deviceId: job.machine.device_id,
			token: job.token,
			fetch: faultyFetch,
			clock,
			random: seededRandom(seed ^ job.index),
			storage: memoryStorage(),
			onRejected: () => {
				stats.rejected += 1;
			},
		});
		let result = await device.report(job.report);
		stats.retries += result.retries;
		// A flush gives up after 8 failed attempts and keeps the report: flush again, a bounded number of times.
		for (let flushes = 1; result.pending > 0 && flushes < 5; flushes++) {
			result = await device.flush();
			stats.retries += result.retries + 1;
		}
		if (result.pending > 0) stats.gaveUp += 1;
		if (acceptedAt !== null) {
			stats.clientAccepted += 1;
			lastAcceptedReal = Date.now();
			addArrival(arrivals, acceptedAt);
			const zone = arrivalsByZone.get(job.machine.timezone) ?? new Map();
			addArrival(zone, acceptedAt);
			arrivalsByZone.set(job.machine.timezone, zone);
		}
	}

	const started = Date.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < sorted.length) await sendOne(sorted[next++]);
		}),
	);
	return { stats, arrivals, arrivalsByZone, sendMs: Date.now() - started, lastAcceptedReal };
}
