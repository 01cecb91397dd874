import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Packed } from "../../../src/platform/send-coalescer";
import { createCoalescer } from "../../../src/platform/send-coalescer";

type Sent = { calls: number[] };

/** The real local queue, wrapped to count sendBatch calls and to fail the chosen ones. */
function countingQueue(failCall?: number): { queue: Queue; sent: Sent } {
	const real = env.TELEMETRY_QUEUE;
	const sent: Sent = { calls: [] };
	const queue: Queue = {
		send: (m, o) => real.send(m, o),
		sendBatch: (messages, o) => {
			sent.calls.push([...messages].length);
			if (sent.calls.length === failCall) return Promise.reject(new Error("queue unavailable"));
			return real.sendBatch(messages, o);
		},
		metrics: () => real.metrics(),
	};
	return { queue, sent };
}

const options = { windowMs: 5, waitUntil: () => undefined };
const body = (i: number) => ({ kind: "test", i });

describe("createCoalescer (group commit for queue producers)", () => {
	// Unpacked: one queue message per send.
	const coalescedSend = createCoalescer<unknown>();

	it("sends concurrent messages of one window in one sendBatch, resolving each", async () => {
		const { queue, sent } = countingQueue();
		const outcomes = await Promise.allSettled(
			Array.from({ length: 50 }, (_, i) => coalescedSend(queue, body(i), options)),
		);
		expect(outcomes.every((o) => o.status === "fulfilled")).toBe(true);
		expect(sent.calls).toEqual([50]);
	});

	it("splits a window over 100 messages into groups within the Queues limit", async () => {
		const { queue, sent } = countingQueue();
		await Promise.all(Array.from({ length: 250 }, (_, i) => coalescedSend(queue, body(i), options)));
		expect(sent.calls).toEqual([100, 100, 50]);
	});

	it("fails exactly the messages of a failed group and resolves the others", async () => {
		const { queue, sent } = countingQueue(2);
		const outcomes = await Promise.allSettled(
			Array.from({ length: 250 }, (_, i) => coalescedSend(queue, body(i), options)),
		);
		expect(sent.calls).toEqual([100, 100, 50]);
		const rejected = outcomes.flatMap((o, i) => (o.status === "rejected" ? [i] : []));
		expect(rejected).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
	});

	it("starts a new window for sends that arrive after the leader took its batch", async () => {
		const { queue, sent } = countingQueue();
		await Promise.all([coalescedSend(queue, body(1), options), coalescedSend(queue, body(2), options)]);
		await coalescedSend(queue, body(3), options);
		expect(sent.calls).toEqual([2, 1]);
	});

	it("sends each message alone with a window of 0", async () => {
		const { queue, sent } = countingQueue();
		await Promise.all([1, 2, 3].map((i) => coalescedSend(queue, body(i), { ...options, windowMs: 0 })));
		expect(sent.calls).toEqual([1, 1, 1]);
	});

	it("packs a window with the pack hook and fails exactly the senders whose messages a failed group carried", async () => {
		const { queue, sent } = countingQueue(1);
		const send = createCoalescer<number[]>();
		// Pairs: message 2k carries the bodies of senders 2k and 2k+1.
		const pack = (bodies: readonly number[][]): Packed<number[]>[] =>
			Array.from({ length: Math.ceil(bodies.length / 2) }, (_, k) => ({
				body: bodies.slice(2 * k, 2 * k + 2).flat(),
				members: bodies.length > 2 * k + 1 ? [2 * k, 2 * k + 1] : [2 * k],
			}));
		const outcomes = await Promise.allSettled(
			Array.from({ length: 250 }, (_, i) => send(queue, [i], { ...options, pack })),
		);
		// 125 packed messages: a group of 100 (failed) carrying senders 0-199, then 25 carrying 200-249.
		expect(sent.calls).toEqual([100, 25]);
		const rejected = outcomes.flatMap((o, i) => (o.status === "rejected" ? [i] : []));
		expect(rejected).toEqual(Array.from({ length: 200 }, (_, i) => i));
	});

	it("fails the window rather than leave a sender waiting when the pack hook loses a message", async () => {
		const { queue, sent } = countingQueue();
		const send = createCoalescer<number>();
		const lossy = (bodies: readonly number[]): Packed<number>[] => [{ body: bodies[0] ?? 0, members: [0] }];
		const outcomes = await Promise.allSettled([1, 2, 3].map((i) => send(queue, i, { ...options, pack: lossy })));
		expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"]);
		expect(sent.calls).toEqual([]);
	});
});
