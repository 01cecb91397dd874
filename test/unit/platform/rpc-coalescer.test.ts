import { describe, expect, it } from "vitest";
import { RpcCoalescer } from "../../../src/platform/rpc-coalescer";
import { TimeoutError } from "../../../src/platform/timeout";

type Op = { n: number; weight?: number };

/** A fake remote that doubles each op after a macrotask, recording every batch it received. */
function remote(options: { fail?: (batch: readonly Op[]) => boolean; hang?: boolean } = {}) {
	const batches: number[][] = [];
	const send = async (ops: readonly Op[]): Promise<number[]> => {
		batches.push(ops.map((o) => o.n));
		if (options.hang) return new Promise<never>(() => undefined);
		await new Promise((r) => setTimeout(r, 1));
		if (options.fail?.(ops)) throw new Error("shard unavailable");
		return ops.map((o) => o.n * 2);
	};
	return { batches, send };
}

function coalescer(maxOps = 64, maxWeight = 100) {
	return new RpcCoalescer<Op, number>(maxOps, maxWeight, (op) => op.weight ?? 0);
}

const background: Promise<unknown>[] = [];
const waitUntil = (p: Promise<unknown>) => void background.push(p);

describe("RpcCoalescer (Nagle-style, no timer)", () => {
	it("sends an idle call at once and alone", async () => {
		const c = coalescer();
		const { batches, send } = remote();
		expect(await c.call("a", { n: 1 }, { send, waitUntil })).toBe(2);
		expect(batches).toEqual([[1]]);
		expect(c.figures()).toEqual({ calls: 1, rpcs: 1 });
	});

	it("sends the calls that arrived while one RPC was in flight together in one RPC", async () => {
		const c = coalescer();
		const { batches, send } = remote();
		const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => c.call("a", { n: i }, { send, waitUntil })));
		expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
		expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
		expect(c.figures()).toEqual({ calls: 10, rpcs: 2 });
	});

	it("keeps targets apart: calls to two targets never share an RPC", async () => {
		const c = coalescer();
		const { batches, send } = remote();
		await Promise.all([1, 2, 3, 4].map((n) => c.call(n % 2 === 0 ? "even" : "odd", { n }, { send, waitUntil })));
		expect(batches).toEqual([[1], [2], [3], [4]]);
	});

	it("caps a batch by op count and by weight, a heavy call going alone", async () => {
		const c = coalescer(3, 100);
		const { batches, send } = remote();
		const ops: Op[] = [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5, weight: 500 }, { n: 6 }];
		await Promise.all(ops.map((op) => c.call("a", op, { send, waitUntil })));
		expect(batches).toEqual([[0], [1, 2, 3], [4], [5], [6]]);
	});

	it("fails exactly the calls of a failed RPC and goes on with the next batch", async () => {
		const c = coalescer();
		const { batches, send } = remote({ fail: (batch) => batch.some((o) => o.n === 1) });
		const outcomes = await Promise.allSettled([0, 1, 2].map((n) => c.call("a", { n }, { send, waitUntil })));
		expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "rejected"]);
		expect(await c.call("a", { n: 7 }, { send, waitUntil })).toBe(14);
		expect(batches).toEqual([[0], [1, 2], [7]]);
	});

	it("fails a batch whose answer has the wrong number of results", async () => {
		const c = coalescer();
		const send = async (ops: readonly Op[]) => Promise.resolve(ops.length > 1 ? [1] : [0]);
		const outcomes = await Promise.allSettled([0, 1, 2].map((n) => c.call("a", { n }, { send, waitUntil })));
		expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "rejected"]);
	});

	it("times a call out on its own limit when the RPC never returns", async () => {
		const c = coalescer();
		const { send } = remote({ hang: true });
		const outcomes = await Promise.allSettled(
			[0, 1].map((n) => c.call("a", { n }, { send, waitUntil, waitLimitMs: 30 })),
		);
		for (const o of outcomes) {
			expect(o.status).toBe("rejected");
			if (o.status === "rejected") expect(o.reason).toBeInstanceOf(TimeoutError);
		}
	});

	it("hands the queue on after a sender's rounds, so every call is still answered", async () => {
		const c = coalescer();
		const { batches, send: inner } = remote();
		const late: Promise<number>[] = [];
		// Each RPC brings one more call, so the queue is never empty when a batch returns.
		const send = async (ops: readonly Op[]) => {
			if (late.length < 40) late.push(c.call("a", { n: 100 + late.length }, { send, waitUntil }));
			return inner(ops);
		};
		expect(await c.call("a", { n: 1 }, { send, waitUntil })).toBe(2);
		while (late.length < 40) await new Promise((r) => setTimeout(r, 1));
		const answers = await Promise.all(late);
		expect(answers).toEqual(Array.from({ length: 40 }, (_, i) => (100 + i) * 2));
		expect(batches.flat().sort((x, y) => x - y)).toEqual([1, ...Array.from({ length: 40 }, (_, i) => 100 + i)]);
	});
});
