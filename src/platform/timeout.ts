/** The one deadline helper: every wait on another system (a Durable Object, a fetch, a handler) is bounded. */

export class TimeoutError extends Error {
	override name = "TimeoutError";
}

/**
 * Races `work` against `ms`. Given a function, it receives an AbortSignal that fires at the
 * deadline, so the abandoned call stops too. Rejects with TimeoutError at the deadline; the timer
 * is always cleared, so a finished call leaves nothing behind.
 */
export async function withTimeout<T>(
	work: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>),
	ms: number,
	what = "operation",
): Promise<T> {
	// Only a function gets a signal (a promise cannot be told to stop): the ingest profile showed an
	// AbortController per limiter call and per queued message, made for nothing.
	let controller: AbortController | undefined;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			controller?.abort();
			reject(new TimeoutError(`${what} did not finish within ${ms} ms`));
		}, ms);
	});
	let started: PromiseLike<T>;
	if (isThenable(work)) started = work;
	else {
		controller = new AbortController();
		started = work(controller.signal);
	}
	const running = Promise.resolve(started);
	try {
		return await Promise.race([running, deadline]);
	} finally {
		if (timer !== undefined) clearTimeout(timer);
		// An abandoned call rejects (AbortError) after the race is decided; nobody waits for it.
		running.catch(() => undefined);
	}
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
