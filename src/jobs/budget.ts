/**
 * What one consumer invocation may spend, shared by every tenant group of its batch: Cloudflare
 * allows 1,000 subrequests (fetches, D1 queries, Durable Object calls, queue sends) and 6
 * simultaneous outbound connections per invocation, and a queue consumer 15 minutes of wall time.
 * Pure bookkeeping (no I/O): the runner asks before it spends.
 */

/** Cloudflare's subrequests per invocation (Workers Paid). */
export const SUBREQUESTS_PER_INVOCATION = 1_000;
/** Kept back for what the estimates miss (progress writes, retried sends, the acks' token sends). */
export const SUBREQUEST_HEADROOM = 100;
/** Cloudflare's simultaneous outbound connections per invocation. */
export const OUTBOUND_CONNECTIONS = 6;
/** Jobs of types that make no subrequests run this many at a time (memory and timers only). */
export const LOCAL_CONCURRENCY = 100;
/** A queue consumer invocation's wall-time limit. */
export const CONSUMER_WALL_MS = 15 * 60_000;
/** Time kept after the last job may end, for its outcome write and the acks. */
export const WRAP_UP_MS = 60_000;

export type BudgetOptions = { startedAt: number; subrequests?: number; wallMs?: number };

/** A counting semaphore: at most `size` holders; the others wait in FIFO order. */
export class Semaphore {
	#free: number;
	readonly #waiting: (() => void)[] = [];

	constructor(size: number) {
		this.#free = size;
	}

	/** Runs `work` once a place is free, and frees it after, whatever `work` does. */
	async run<T>(work: () => Promise<T>): Promise<T> {
		if (this.#free > 0) this.#free -= 1;
		else await new Promise<void>((resolve) => this.#waiting.push(resolve));
		try {
			return await work();
		} finally {
			const next = this.#waiting.shift();
			if (next) next();
			else this.#free += 1;
		}
	}
}

export class InvocationBudget {
	#left: number;
	readonly #endsAt: number;
	/** Shared by every job of a fetching type in this invocation, whatever its tenant. */
	readonly outbound = new Semaphore(OUTBOUND_CONNECTIONS);
	readonly local = new Semaphore(LOCAL_CONCURRENCY);

	constructor(options: BudgetOptions) {
		this.#left = (options.subrequests ?? SUBREQUESTS_PER_INVOCATION) - SUBREQUEST_HEADROOM;
		this.#endsAt = options.startedAt + (options.wallMs ?? CONSUMER_WALL_MS) - WRAP_UP_MS;
	}

	get left(): number {
		return this.#left;
	}

	/** Spends `n` if that many are left; false (nothing spent) otherwise. */
	trySpend(n: number): boolean {
		if (n > this.#left) return false;
		this.#left -= n;
		return true;
	}

	/** Spends `n` that must be spent (a write already owed); may leave the budget below zero. */
	spend(n: number): void {
		this.#left -= n;
	}

	/** Whether work that may take `ms` and starts at `now` ends in time for its outcome to be written. */
	fits(now: number, ms: number): boolean {
		return now + ms <= this.#endsAt;
	}
}
