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
 */
export type CoalescerOptions = {
	/** How long the leader collects sends; 0 sends each message alone, at once. */
	windowMs: number;
	/** Keeps the leader's sends running if its own client goes away. */
	waitUntil: (promise: Promise<unknown>) => void;
	/** How long a waiter waits for its group's outcome before failing. */
	waitLimitMs?: number;
};

type Waiting = { body: unknown; settle: (error: unknown) => void };
type QueueState = { waiting: Waiting[]; leading: boolean };

/** sendBatch calls a leader has in flight at once (Workers allow 6 simultaneous connections). */
const MAX_PARALLEL_SENDS = 4;
const DEFAULT_WAIT_LIMIT_MS = 10_000;
const states = new WeakMap<Queue, QueueState>();
/** This isolate's group-commit figures (exported at GET /metrics): messages and the sendBatch calls that carried them. */
const figures = { messages: 0, batches: 0 };

export function groupCommitFigures(): Readonly<typeof figures> {
	return { ...figures };
}

/** Enqueues one JSON message; resolves once the sendBatch carrying it succeeded, rejects with its error. */
export async function coalescedSend(queue: Queue, body: unknown, options: CoalescerOptions): Promise<void> {
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
	if (!state.leading) {
		state.leading = true;
		const led = lead(queue, state, options.windowMs);
		options.waitUntil(led);
		await led;
	}
	await withTimeout(outcome, options.waitLimitMs ?? DEFAULT_WAIT_LIMIT_MS, "queue group commit");
}

async function lead(queue: Queue, state: QueueState, windowMs: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, windowMs));
	state.leading = false;
	const taken = state.waiting.splice(0);
	try {
		const groups = groupForSendBatch(taken, (w) => w.body);
		for (const wave of chunk(groups, MAX_PARALLEL_SENDS)) {
			await Promise.all(wave.map((group) => sendGroup(queue, group)));
		}
	} catch (err) {
		// Only a bug gets here (an oversized body the producer should have refused): fail them all
		// rather than leave a waiter hanging; settling one twice is a no-op.
		for (const w of taken) w.settle(err);
	}
}

async function sendGroup(queue: Queue, group: readonly Waiting[]): Promise<void> {
	let error: unknown = null;
	figures.batches += 1;
	figures.messages += group.length;
	try {
		await queue.sendBatch(group.map((w) => ({ body: w.body, contentType: "json" as const })));
	} catch (err) {
		error = err ?? new Error("sendBatch failed");
	}
	for (const w of group) w.settle(error);
}
