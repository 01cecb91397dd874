import { TimeoutError } from "./timeout";

/**
 * Nagle-style coalescing of calls to one Durable Object, without a timer: per isolate and target,
 * the first call is sent at once; calls that arrive while one RPC to that target is in flight queue
 * up and leave together in ONE RPC as soon as the in-flight one returns. Idle, nothing waits; under
 * load, batches grow with the RPC's round trip (a timer window paid its delay on every batch and
 * gathered ~1.3 calls each).
 *
 * The hand-off across requests is send-coalescer.ts's: the sender sends from its own request
 * context (the `send` it was given makes its own stub; no I/O object crosses requests) and settles
 * plain promises, whose continuations workerd runs in each waiter's own context (cross-request
 * promise resolution). The sender answers its own request as soon as its own batch returned; its
 * further sending for the queued calls runs under its `waitUntil`. Each waiter holds a timer of its
 * own (`waitLimitMs`), so the runtime never takes it for a hung request, and a sender that dies
 * costs its waiters an error, never a lost answer. The waiter clears that timer itself, after its
 * await: a timer belongs to the request that set it, and `clearTimeout` from the sender's context
 * leaves it armed (measured: once such timers fired under load, answers failed with "Cannot perform
 * I/O on behalf of a different request"; test/e2e/idempotency-coalesce-load.e2e.mjs). After
 * MAX_ROUNDS batches a sender hands the queue to the first waiting caller, which goes on from its
 * own context: no request lives on sending for others forever.
 */
export type RpcCoalescerOptions<Op, Result> = {
	/** Keeps the sender's sending running if its client goes away. */
	waitUntil: (promise: Promise<unknown>) => void;
	/** Sends one batch; must answer one result per op, in order (a throw fails the whole batch). */
	send: (ops: readonly Op[]) => Promise<readonly Result[]>;
	/** How long a call waits for its batch before failing. */
	waitLimitMs?: number;
};

/** The figures of one coalescer in this isolate: calls and the RPCs that carried them. */
export type CoalescerFigures = { calls: number; rpcs: number };

type Outcome<Result> = { kind: "done"; value: Result } | { kind: "failed"; error: unknown } | { kind: "lead" };
type Waiting<Op, Result> = { op: Op; weight: number; settle: (outcome: Outcome<Result>) => void };
/** `handedAt`: when the queue was handed to a waiter that has not started sending yet (0: none). */
type Target<Op, Result> = { queue: Waiting<Op, Result>[]; sending: boolean; handedAt: number };

/** Batches a sender sends before handing the queue on (each is one round trip of its own request). */
const MAX_ROUNDS = 16;
const DEFAULT_WAIT_LIMIT_MS = 10_000;
/**
 * A waiter handed the queue may never go on: its request can be cancelled (client gone) before its
 * continuation runs. A call that finds a hand-off older than this starts sending itself, so the
 * target never stays stuck with `sending` set and nobody sending.
 */
const HANDOFF_LIMIT_MS = 1_000;

export class RpcCoalescer<Op, Result> {
	readonly #targets = new Map<string, Target<Op, Result>>();
	readonly #figures: CoalescerFigures = { calls: 0, rpcs: 0 };

	/**
	 * @param maxOps calls per RPC at most
	 * @param maxWeight total weight per RPC at most (e.g. characters of payload); a heavier call goes alone
	 * @param weigh the weight of one call
	 */
	constructor(
		private readonly maxOps: number,
		private readonly maxWeight: number,
		private readonly weigh: (op: Op) => number,
	) {}

	figures(): Readonly<CoalescerFigures> {
		return { ...this.#figures };
	}

	/** Runs `op` against `target` (e.g. a Durable Object name), batched with concurrent calls to it. */
	async call(target: string, op: Op, options: RpcCoalescerOptions<Op, Result>): Promise<Result> {
		let state = this.#targets.get(target);
		if (state === undefined) {
			state = { queue: [], sending: false, handedAt: 0 };
			this.#targets.set(target, state);
		}
		this.#figures.calls += 1;
		const limitMs = options.waitLimitMs ?? DEFAULT_WAIT_LIMIT_MS;
		let outcome = this.#enqueue(state, op, limitMs);
		const abandoned = state.handedAt > 0 && Date.now() - state.handedAt > HANDOFF_LIMIT_MS;
		if (!state.sending || abandoned) {
			state.sending = true;
			state.handedAt = 0;
			options.waitUntil(this.#drain(target, state, options.send));
		}
		for (;;) {
			const settled = await outcome.promise;
			// Cleared here, in this call's own request context: a timer belongs to the request that
			// set it, and the batch's sender (another request) cannot clear it.
			clearTimeout(outcome.timer);
			if (settled.kind === "failed") throw settled.error;
			if (settled.kind === "done") return settled.value;
			// Handed the queue (the previous sender used its rounds; `sending` stayed true for us):
			// this call sends on from its own request context, its own op among the rest. (Should a
			// caller have taken over meanwhile, two senders share the queue: each call still goes once.)
			state.handedAt = 0;
			outcome = this.#enqueue(state, op, limitMs);
			options.waitUntil(this.#drain(target, state, options.send));
		}
	}

	/** Queues `op`; its promise settles with the batch's outcome, a hand-off, or a TimeoutError at `limitMs`. */
	#enqueue(
		state: Target<Op, Result>,
		op: Op,
		limitMs: number,
	): { promise: Promise<Outcome<Result>>; timer: ReturnType<typeof setTimeout> } {
		const { promise, resolve } = Promise.withResolvers<Outcome<Result>>();
		const waiting: Waiting<Op, Result> = { op, weight: this.weigh(op), settle: resolve };
		const timer = setTimeout(() => {
			// Out of the queue (if still there) so it is neither sent nor handed the queue.
			const at = state.queue.indexOf(waiting);
			if (at >= 0) state.queue.splice(at, 1);
			resolve({ kind: "failed", error: new TimeoutError(`coalesced call did not finish within ${limitMs} ms`) });
		}, limitMs);
		state.queue.push(waiting);
		return { promise, timer };
	}

	async #drain(
		target: string,
		state: Target<Op, Result>,
		send: RpcCoalescerOptions<Op, Result>["send"],
	): Promise<void> {
		try {
			for (let round = 0; round < MAX_ROUNDS && state.queue.length > 0; round++) {
				const batch = this.#take(state);
				this.#figures.rpcs += 1;
				let outcomes: Outcome<Result>[];
				try {
					const results = await send(batch.map((w) => w.op));
					if (results.length !== batch.length)
						throw new Error(`${target}: ${results.length} results for ${batch.length} calls`);
					outcomes = results.map((value) => ({ kind: "done", value }));
				} catch (error) {
					outcomes = batch.map(() => ({ kind: "failed", error }));
				}
				batch.forEach((w, i) => w.settle(outcomes[i] ?? { kind: "failed", error: new Error("no result") }));
			}
		} finally {
			const next = state.queue.shift();
			if (next === undefined) state.sending = false;
			else {
				state.handedAt = Date.now();
				next.settle({ kind: "lead" });
			}
			if (state.queue.length === 0 && !state.sending) this.#targets.delete(target);
		}
	}

	/** The next batch: the oldest calls, within maxOps and maxWeight (at least one). */
	#take(state: Target<Op, Result>): Waiting<Op, Result>[] {
		let weight = 0;
		let n = 0;
		for (const w of state.queue) {
			if (n >= this.maxOps || (n > 0 && weight + w.weight > this.maxWeight)) break;
			weight += w.weight;
			n += 1;
		}
		return state.queue.splice(0, n);
	}
}
