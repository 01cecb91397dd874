// Distributed locks (issue 16, part 1): acquire + release round trips per second, each pair on the
// lock's DistributedLock object. One lock: every client contends for the same object (a 409 is a
// refused attempt, not a round trip). 1,000 locks: each client walks its own slice of 1,000 names,
// so the load spreads over 1,000 objects and nothing contends.
import { fmt } from "../lib/load.mjs";
import { loop, unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "Locks: acquire/release round trips on 1 lock and on 1,000 locks";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CLIENTS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export async function run({ url, admin, log }) {
	const { headers } = await unlimitedTenant(admin, "bench-locks");
	const post = (path, body) =>
		fetch(`${url}/api/v1/locks/${path}`, { method: "POST", headers, body: JSON.stringify(body) });
	const roundTrip = async (name, owner) => {
		const acquired = await post(`${name}/acquire`, { owner, ttl_ms: 5_000 });
		if (acquired.status !== 200) {
			await acquired.arrayBuffer();
			return false;
		}
		const { token } = await acquired.json();
		const released = await post(`${name}/release`, { owner, token });
		await released.arrayBuffer();
		return released.status === 200;
	};
	// Warm-up: JIT, auth cache, the first objects.
	await loop({ clients: 4, seconds: 2, step: (c, i) => roundTrip(`warm-${(c * 7 + i) % 50}`, `w${c}`) });
	const one = await loop({ clients: CLIENTS, seconds: SECONDS, step: (c) => roundTrip("hot", `c${c}`) });
	const spread = await loop({
		clients: CLIENTS,
		seconds: SECONDS,
		step: (c, i) => roundTrip(`lock-${(c + i * CLIENTS) % 1000}`, `c${c}`),
	});
	log(
		`1 lock:      ${fmt(one.per_s)} round trips/s  p50 ${one.p50} ms  p99 ${one.p99} ms  (${fmt(one.failed)} refused while held)`,
	);
	log(
		`1,000 locks: ${fmt(spread.per_s)} round trips/s  p50 ${spread.p50} ms  p99 ${spread.p99} ms  (${fmt(spread.failed)} refused)`,
	);
	return {
		figures: { locks_one_lock_rt_per_s: one.per_s, locks_1000_locks_rt_per_s: spread.per_s },
		clients: CLIENTS,
		seconds: SECONDS,
		one_lock: one,
		thousand_locks: spread,
	};
}
