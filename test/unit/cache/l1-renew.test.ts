import { describe, expect, it } from "vitest";
import type { BatchItem } from "../../../durable-objects/cache-shard";
import { L1_TTL_MS, admitL1, dropL1, l1Epoch, readL1 } from "../../../src/cache/l1";
import type { L1Hit } from "../../../src/cache/l1";
import { RENEW_AHEAD_MS, WARM_LIMITS, renewPending, renewSoon, warmShard } from "../../../src/cache/l1-renew";
import type { FetchFresh } from "../../../src/cache/l1-renew";

let n = 0;
const scope = () => ({ tenantId: `renew-t${n++}`, namespace: "ns" });
type Scope = ReturnType<typeof scope>;

/** Puts `key` in L1 (forced), then answers it as if `age` ms had passed since. */
function held(s: Scope, key: string, value: string, expiresAt: number, age: number): { hit: L1Hit; now: number } {
	const admittedAt = Date.now() - age;
	const shard = `${s.tenantId}:ns:0`;
	admitL1(s, key, { value, expiresAt, shard, shared: true }, { force: true, since: l1Epoch() }, admittedAt);
	const hit = readL1(s, key, admittedAt);
	if (!hit) throw new Error("not admitted");
	return { hit, now: Date.now() };
}

/** A shard that answers from `entries` (absent: a miss) and records what it was asked. */
function shardAnswering(entries: Record<string, { value: string; expiresAt: number }>) {
	const asked: { shard: string; keys: string[] }[] = [];
	const fetchFresh: FetchFresh = async (shard, keys) => {
		asked.push({ shard, keys });
		const items = keys.map((key): BatchItem => {
			const found = entries[key];
			return found ? { key, hit: true, ...found } : { key, hit: false };
		});
		return { l1: true, items };
	};
	return { asked, fetchFresh };
}

function deferrals() {
	const work: Promise<unknown>[] = [];
	return { defer: (p: Promise<unknown>) => void work.push(p), settled: () => Promise.all(work) };
}

describe("L1 renewal ahead of expiry", () => {
	it("renews keys served late in their L1 life with one call per shard and a fresh L1 life", async () => {
		const s = scope();
		const far = Date.now() + 60_000;
		const a = held(s, "a", "old-a", far, L1_TTL_MS - 300);
		const b = held(s, "b", "old-b", far, L1_TTL_MS - 500);
		const { asked, fetchFresh } = shardAnswering({
			a: { value: "new-a", expiresAt: far },
			b: { value: "b", expiresAt: far },
		});
		const { defer, settled } = deferrals();
		renewSoon(s, "a", a.hit, a.now, fetchFresh, defer);
		renewSoon(s, "b", b.hit, b.now, fetchFresh, defer);
		renewSoon(s, "a", a.hit, a.now, fetchFresh, defer);
		await settled();
		expect(asked).toEqual([{ shard: `${s.tenantId}:ns:0`, keys: ["a", "b"] }]);
		const renewed = readL1(s, "a");
		expect(renewed?.value).toBe("new-a");
		// Its L1 life counts from before the shard call: never longer than L1_TTL_MS after the read.
		expect(renewed?.l1Until).toBeGreaterThan(a.hit.l1Until);
		expect(renewed?.l1Until).toBeLessThanOrEqual(Date.now() + L1_TTL_MS);
	});

	it("leaves alone keys early in their L1 life and entries that expire with their L1 copy", async () => {
		const s = scope();
		const young = held(s, "young", "y", Date.now() + 60_000, RENEW_AHEAD_MS - 200);
		const ending = held(s, "ending", "e", Date.now() + 200, L1_TTL_MS - 300);
		const { asked, fetchFresh } = shardAnswering({});
		const { defer, settled } = deferrals();
		renewSoon(s, "young", young.hit, young.now, fetchFresh, defer);
		renewSoon(s, "ending", ending.hit, ending.now, fetchFresh, defer);
		await settled();
		await renewPending(fetchFresh);
		expect(asked).toEqual([]);
		expect(readL1(s, "young")?.value).toBe("y");
	});

	it("drops a key the shard no longer has", async () => {
		const s = scope();
		const gone = held(s, "gone", "v", Date.now() + 60_000, L1_TTL_MS - 300);
		const { fetchFresh } = shardAnswering({});
		const { defer, settled } = deferrals();
		renewSoon(s, "gone", gone.hit, gone.now, fetchFresh, defer);
		await settled();
		expect(readL1(s, "gone")).toBeUndefined();
	});

	it("keeps nothing that was in flight across a local change, and survives a failed call", async () => {
		const s = scope();
		const far = Date.now() + 60_000;
		const k = held(s, "k", "old", far, RENEW_AHEAD_MS + 50);
		const racing: FetchFresh = async (_shard, keys) => {
			dropL1(s, "other");
			return { l1: true, items: keys.map((key): BatchItem => ({ key, hit: true, value: "stale", expiresAt: far })) };
		};
		const first = deferrals();
		renewSoon(s, "k", k.hit, k.now, racing, first.defer);
		await first.settled();
		expect(readL1(s, "k")?.value).toBe("old");
		expect(readL1(s, "k")?.l1Until).toBe(k.hit.l1Until);

		const failing: FetchFresh = () => Promise.reject(new Error("shard unreachable"));
		const second = deferrals();
		renewSoon(s, "k", k.hit, Date.now(), failing, second.defer);
		await expect(second.settled()).resolves.toBeDefined();
		// The copy stays until its own L1 expiry; the key may be queued again.
		expect(readL1(s, "k")?.value).toBe("old");
		const { asked, fetchFresh } = shardAnswering({ k: { value: "new", expiresAt: far } });
		const third = deferrals();
		renewSoon(s, "k", k.hit, Date.now(), fetchFresh, third.defer);
		await third.settled();
		expect(asked.length).toBe(1);
		expect(readL1(s, "k")?.value).toBe("new");
	});

	it("reads a shard's recently renewed keys back in one call when one of them misses after their copies expired", async () => {
		const s = scope();
		const shard = `${s.tenantId}:ns:0`;
		const far = Date.now() + 60_000;
		const first = deferrals();
		const hot = ["h1", "h2", "h3"].map((key) => ({ key, ...held(s, key, `${key}-old`, far, L1_TTL_MS - 300) }));
		const fresh = Object.fromEntries(hot.map(({ key }) => [key, { value: `${key}-new`, expiresAt: far }]));
		const { asked, fetchFresh } = shardAnswering(fresh);
		for (const h of hot) renewSoon(s, h.key, h.hit, h.now, fetchFresh, first.defer);
		await first.settled();
		expect(asked.length).toBe(1);

		// Seen from when their renewed copies are over: h1 misses, h2 and h3 come back in one call.
		const later = Date.now() + L1_TTL_MS + 100;
		const second = deferrals();
		expect(warmShard(s, shard, "h1", later, fetchFresh, second.defer)).toBe(true);
		expect(asked[1]).toEqual({ shard, keys: ["h2", "h3"] });
		// Keys whose call is out are not asked again; a key never renewed is not hot.
		expect(warmShard(s, shard, "h2", later, fetchFresh, second.defer)).toBe(true);
		expect(asked[2]).toEqual({ shard, keys: ["h1"] });
		expect(warmShard(s, shard, "cold", later, fetchFresh, second.defer)).toBe(false);
		await second.settled();
		expect(asked.length).toBe(3);
		expect(readL1(s, "h2")?.value).toBe("h2-new");
		// Once the hot set is WARM_LIMITS.recentMs old it is forgotten.
		expect(warmShard(s, shard, "h1", Date.now() + WARM_LIMITS.recentMs, fetchFresh, second.defer)).toBe(false);
		await second.settled();
		expect(asked.length).toBe(3);
	});
});
