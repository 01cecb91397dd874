/** The one deadline helper: every wait on another system (a Durable Object, a fetch, a handler) is bounded. */

export class TimeoutError extends Error {
	override name = "TimeoutError";
}

/**
 * Races `work` against `ms`. Given a function, it receives an AbortSignal that fires at the
 * deadline, so the abandoned call stops too. Rejects with TimeoutError at the deadline; the timer
 * is always cleared, so a finished call leaves nothing behind, and an abandoned call's later
 * rejection is handled here (nobody waits for it).
 */
export function withTimeout<T>(
	work: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>),
	ms: number,
	what = "operation",
): Promise<T> {
	// One promise and one timer per call: this runs for every waiter of ingest's group commit and
	// every limiter call. (A race of three promises in an async function was ~4 % of the ingest
	// isolate's busy time; only a function gets a signal — an AbortController per call was another.)
	return new Promise<T>((resolve, reject) => {
		let controller: AbortController | undefined;
		const timer = setTimeout(() => {
			controller?.abort();
			reject(new TimeoutError(`${what} did not finish within ${ms} ms`));
		}, ms);
		const settle = (value: T) => {
			clearTimeout(timer);
			resolve(value);
		};
		const fail = (error: unknown) => {
			clearTimeout(timer);
			reject(error);
		};
		try {
			let started: PromiseLike<T>;
			if (isThenable(work)) started = work;
			else {
				controller = new AbortController();
				started = work(controller.signal);
			}
			// Through Promise.resolve: a thenable (an RPC promise) may call its callbacks synchronously.
			Promise.resolve(started).then(settle, fail);
		} catch (error) {
			fail(error);
		}
	});
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A promise or thenable is taken as it is, checked before "is it a function": a Durable Object
 * RPC promise is callable too (for pipelining), and calling it would send the signal as an RPC
 * argument (DataCloneError) instead of waiting for the answer.
 */
function isThenable<T>(work: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>)): work is PromiseLike<T> {
	return "then" in work && typeof work.then === "function";
}
