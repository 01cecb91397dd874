/**
 * Writes the outcomes of a round's attempts as they finish, in small groups, instead of once for
 * the whole round: a group goes out when FLUSH_EVERY attempts are waiting, or FLUSH_INTERVAL_MS
 * after the first of them finished (if `mayFlushEarly` allows the extra write). Writes go one
 * after the other, in finishing order. A job whose outcome is written is never run again, even if
 * the invocation dies later (a hung job past the wall-time limit, an evicted isolate).
 */

/** Attempts per group (one outcome batch each). */
export const FLUSH_EVERY = 20;
/** How long a finished attempt waits for others before its group is written anyway. */
export const FLUSH_INTERVAL_MS = 250;

export type WriterOptions = {
	every?: number;
	intervalMs?: number;
	/** Asked before a timed write (it costs subrequests); a write of a full group is always made. */
	mayFlushEarly?: () => boolean;
};

export class OutcomeWriter<T> {
	readonly #write: (group: T[]) => Promise<void>;
	readonly #every: number;
	readonly #intervalMs: number;
	readonly #mayFlushEarly: () => boolean;
	#pending: T[] = [];
	#timer: ReturnType<typeof setTimeout> | undefined;
	#chain: Promise<void> = Promise.resolve();
	#error: unknown = undefined;
	#failed = false;
	#groups = 0;

	constructor(write: (group: T[]) => Promise<void>, options: WriterOptions = {}) {
		this.#write = write;
		this.#every = options.every ?? FLUSH_EVERY;
		this.#intervalMs = options.intervalMs ?? FLUSH_INTERVAL_MS;
		this.#mayFlushEarly = options.mayFlushEarly ?? (() => true);
	}

	/** Groups written (or attempted) so far. */
	get groups(): number {
		return this.#groups;
	}

	add(item: T): void {
		this.#pending.push(item);
		if (this.#pending.length >= this.#every) this.#flush();
		else this.#timer ??= setTimeout(() => this.#onTimer(), this.#intervalMs);
	}

	/** Writes what is left and waits for every write; throws the first write's error, if any. */
	async close(): Promise<void> {
		this.#flush();
		await this.#chain;
		if (this.#failed) throw this.#error;
	}

	#onTimer(): void {
		this.#timer = undefined;
		if (this.#pending.length > 0 && this.#mayFlushEarly()) this.#flush();
	}

	#flush(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
		const group = this.#pending;
		if (group.length === 0) return;
		this.#pending = [];
		this.#groups += 1;
		// The chain never rejects, so each group is tried even after one failed (D1 may be back;
		// every write is compare-and-set); close() reports the first failure.
		this.#chain = this.#chain
			.then(() => this.#write(group))
			.catch((err: unknown) => {
				if (!this.#failed) this.#error = err;
				this.#failed = true;
			});
	}
}
