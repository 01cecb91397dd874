import { describe, expect, it } from "vitest";
import type { AccessBatch } from "../../../src/cache/access-log";
import { FLUSH_KEYS, FLUSH_MS } from "../../../src/cache/access-log";
import { countL1Hit, flushL1Hits } from "../../../src/cache/l1-reads";
import type { SendReads } from "../../../src/cache/l1-reads";

function recorder() {
	const sent: { shard: string; batch: AccessBatch }[] = [];
	const send: SendReads = async (shard, batch) => void sent.push({ shard, batch });
	return { sent, send };
}

function deferrals() {
	const work: Promise<unknown>[] = [];
	return { defer: (p: Promise<unknown>) => void work.push(p), work, settled: () => Promise.all(work) };
}

describe("L1 hits sent to their shards in batches", () => {
	it("sends each shard one batch per flush, however many hits, with no background work per hit", async () => {
		const { sent, send } = recorder();
		const { defer, work, settled } = deferrals();
		const now = Date.now();
		for (let i = 0; i < 50; i++) countL1Hit("s1", `k${i % 5}`, now + i, send, defer);
		for (let i = 0; i < 20; i++) countL1Hit("s2", "x", now + i, send, defer);
		// One scheduled flush for all 70 hits.
		expect(work.length).toBe(1);
		expect(sent).toEqual([]);
		const started = Date.now();
		await settled();
		expect(Date.now() - started).toBeGreaterThanOrEqual(FLUSH_MS - 50);
		const byShard = Object.fromEntries(sent.map((s) => [s.shard, s.batch]));
		expect(sent.length).toBe(2);
		expect(byShard.s1?.hits).toBe(50);
		expect(byShard.s1?.touches.find(([key]) => key === "k4")).toEqual(["k4", now + 49, 10]);
		expect(byShard.s2).toEqual({ touches: [["x", now + 19, 20]], hits: 20, misses: 0 });
	});

	it("flushes a shard at once when FLUSH_KEYS distinct keys wait", async () => {
		const { sent, send } = recorder();
		const { defer, settled } = deferrals();
		const now = Date.now();
		for (let i = 0; i < FLUSH_KEYS; i++) countL1Hit("big", `k${i}`, now, send, defer);
		await Promise.race([settled(), new Promise((r) => setTimeout(r, FLUSH_MS / 2))]);
		expect(sent.map((s) => [s.shard, s.batch.hits])).toEqual([["big", FLUSH_KEYS]]);
		await settled();
	});

	it("never fails the request when a flush fails: the batch is logged and dropped, later hits still go", async () => {
		const { defer, settled } = deferrals();
		const failing: SendReads = () => Promise.reject(new Error("shard unreachable"));
		countL1Hit("down", "k", Date.now(), failing, defer);
		await expect(settled()).resolves.toBeDefined();
		const { sent, send } = recorder();
		await flushL1Hits(() => true, send);
		expect(sent).toEqual([]);
		const next = deferrals();
		countL1Hit("down", "k", Date.now(), send, next.defer);
		await next.settled();
		expect(sent.map((s) => [s.shard, s.batch.hits])).toEqual([["down", 1]]);
	});
});
