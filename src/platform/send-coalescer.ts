import { chunk, groupForSendBatch } from "./queue-limits";
import { withTimeout } from "./timeout";

/**
 * Group commit for queue producers: concurrent sends of one isolate to one queue share sendBatch
 * calls. The first send of a window leads: it waits `windowMs`, takes everything queued meanwhile,
 * sends it in groups within the Queues limits (<= 100 messages, <= 256 KB per call) and settles each
 * message with its own group's outcome. So a caller's promise resolves only once the batch that
 * carries its message is accepted, and a failed group fails exactly its messages.
 *
 * The hand-off across requests is safe in workerd: the leader sends from its own request context
 * (no I/O object crosses requests) and settles plain promises, whose continuations workerd runs in
 * each waiter's own context (cross-request promise resolution, on by default since 2024-10). Each
 * waiter also holds a timer of its own (`waitLimitMs`), so the runtime never takes it for a hung
 * request, and a leader that dies before settling costs its waiters a 503, never a lost 2xx.
 *
 * An optional `pack` hook merges compatible messages of the window (of different requests) into
 * fewer queue messages before they are grouped: each packed message names the waiters it carries,
 * and all of them settle with the outcome of the one sendBatch that carried it.
 */
export type CoalescerOptions<T = unknown> = {
	/** How long the leader collects sends; 0 sends each message alone, at once. */
	windowMs: number;
	/** Keeps the leader's sends running if its own client goes away. */
	waitUntil: (promise: Promise<unknown>) => void;
	/** How long a waiter waits for its group's outcome before failing. */
	waitLimitMs?: number;
	/**
	 * Merges the window's bodies into the messages to send. Each output lists the indices of the
	 * inputs it carries; every input must be carried by exactly one output (else the window fails).
	 */
	pack?: (bodies: readonly T[]) => Packed<T>[];
};

/** A message to send and the indices (into the pack hook's input) of the messages it carries. */
export type Packed<T> = { body: T; members: readonly number[] };

type Waiting<T> = { body: T; settle: (error: unknown) => void };
type QueueState<T> = { waiting: Waiting<T>[]; leading: boolean };
type Outgoing<T> = { body: T; carried: readonly Waiting<T>[] };

/** sendBatch calls a leader has in flight at once (Workers allow 6 simultaneous connections). */
const MAX_PARALLEL_SENDS = 4;
const DEFAULT_WAIT_LIMIT_MS = 10_000;
/**
 * This isolate's group-commit figures (exported at GET /metrics): the producers' messages, the
 * queue messages that carried them after packing, and the sendBatch calls that carried those.
 */
const figures = { messages: 0, packed: 0, batches: 0 };

export function groupCommitFigures(): Readonly<typeof figures> {
	return { ...figures };
}

/**
 * A group-commit sender for bodies of type T, with its own per-queue windows (so a pack hook only
 * ever sees bodies of its own type). The function resolves once the sendBatch carrying the body
 * (alone or packed into another message) succeeded, and rejects with that call's error.
 */
export function createCoalescer<T>(): (queue: Queue, body: T, options: CoalescerOptions<T>) => Promise<void> {
	const states = new WeakMap<Queue, QueueState<T>>();
	return async (queue, body, options) => {
		if (options.windowMs <= 0) {
			await queue.sendBatch([{ body, contentType: "json" }]);
			return;
		}
		let state = states.get(queue);
		if (state === undefined) {
			state = { waiting: [], leading: false };
			states.set(queue, state);
		}
		const outcome = new Promise<void>((resolve, reject) => {
			state.waiting.push({ body, settle: (error) => (error === null ? resolve() : reject(error)) });
		});
		// The leader's own group can fail while it still awaits the lead: mark the rejection handled
		// now (it is awaited below) so the runtime does not report it as unhandled meanwhile.
		outcome.catch(() => undefined);
		if (!state.leading) {
			state.leading = true;
			const led = lead(queue, state, options);
			options.waitUntil(led);
			await led;
		}
		await withTimeout(outcome, options.waitLimitMs ?? DEFAULT_WAIT_LIMIT_MS, "queue group commit");
	};
}

async function lead<T>(queue: Queue, state: QueueState<T>, options: CoalescerOptions<T>): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, options.windowMs));
	state.leading = false;
	const taken = state.waiting.splice(0);
	try {
		const outgoing = packWaiting(taken, options.pack);
		const groups = groupForSendBatch(outgoing, (o) => o.body);
		for (const wave of chunk(groups, MAX_PARALLEL_SENDS)) {
			await Promise.all(wave.map((group) => sendGroup(queue, group)));
		}
	} catch (err) {
		// Only a bug gets here (an oversized body the producer should have refused, a pack hook that
		// lost or doubled a message): fail them all rather than leave a waiter hanging; settling one
		// twice is a no-op.
		for (const w of taken) w.settle(err);
	}
}

/** The messages to send and who each carries: one per waiter, or the pack hook's, checked. */
function packWaiting<T>(taken: readonly Waiting<T>[], pack: CoalescerOptions<T>["pack"]): Outgoing<T>[] {
	if (pack === undefined || taken.length < 2) return taken.map((w) => ({ body: w.body, carried: [w] }));
	const packed = pack(taken.map((w) => w.body));
	const seen = new Uint8Array(taken.length);
	const outgoing = packed.map(({ body, members }): Outgoing<T> => {
		const carried: Waiting<T>[] = [];
		for (const i of members) {
			const w = taken[i];
			if (w === undefined || seen[i] === 1) throw new Error(`pack hook carried message ${i} twice or out of range`);
			seen[i] = 1;
			carried.push(w);
		}
		return { body, carried };
	});
	if (seen.includes(0)) throw new Error("pack hook left a message out");
	return outgoing;
}

async function sendGroup<T>(queue: Queue, group: readonly Outgoing<T>[]): Promise<void> {
	let error: unknown = null;
	figures.batches += 1;
	figures.packed += group.length;
	for (const o of group) figures.messages += o.carried.length;
	try {
		await queue.sendBatch(group.map((o) => ({ body: o.body, contentType: "json" as const })));
	} catch (err) {
		error = err ?? new Error("sendBatch failed");
	}
	for (const o of group) for (const w of o.carried) w.settle(error);
}
