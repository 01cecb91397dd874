/**
 * Writes the outcomes of a round's attempts as they finish, in groups, instead of once for the
 * whole round: a group goes out when FLUSH_EVERY attempts are waiting, or FLUSH_INTERVAL_MS after
 * the first of them finished (if `mayFlushEarly` allows the extra write). Writes go one after the
 * other, in finishing order, and commit as a group: what finishes while a write is in flight waits
 * and goes out as the next group (up to MAX_GROUP), so a burst of fast jobs costs a few writes, not
 * one per FLUSH_EVERY (that cost jobs/s half their throughput). A job whose outcome is written is
 * never run again, even if the invocation dies later (a hung job past the wall-time limit, an
 * evicted isolate).
 */

/** Attempts that make a group worth writing at once. */
export const FLUSH_EVERY = 20;
/** How long a finished attempt waits for others before its group is written anyway. */
export const FLUSH_INTERVAL_MS = 250;
/** The most attempts one write carries (a round's claim is at most this many). */
export const MAX_GROUP = 500;

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
	#writing = false;
	#wanted = false;

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

	/** Asks for a write of what is pending: now, or right after the write in flight. */
	#flush(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#wanted = true;
		if (this.#writing) return;
		this.#writing = true;
		this.#chain = this.#drain();
	}

	/**
	 * Writes groups one after the other while one is wanted. Each group is tried even after one
	 * failed (D1 may be back; every write is compare-and-set); close() reports the first failure.
	 */
	async #drain(): Promise<void> {
		while (this.#wanted && this.#pending.length > 0) {
			const group = this.#pending.splice(0, MAX_GROUP);
			// What is left over the cap goes next; what finishes meanwhile waits for a full group,
			// the timer, or close().
			this.#wanted = this.#pending.length > 0;
			this.#groups += 1;
			try {
				await this.#write(group);
			} catch (err) {
				if (!this.#failed) this.#error = err;
				this.#failed = true;
			}
			// Group commit: attempts that finished during the write go out at once as one group.
			if (this.#pending.length >= this.#every) this.#wanted = true;
		}
		this.#writing = false;
		if (this.#pending.length > 0) this.#timer ??= setTimeout(() => this.#onTimer(), this.#intervalMs);
	}
}
