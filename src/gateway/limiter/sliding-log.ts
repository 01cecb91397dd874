/**
 * sliding_window_log: exact. The log holds the time of every admitted unit still inside the window
 * (a request of cost n is one entry with n units; requests in the same millisecond share an entry),
 * so a request is admitted when the units logged in (now − window, now] plus its cost stay within
 * the limit: no boundary burst and no estimate. The price is memory: up to `limit` entries per key,
 * hence MAX_LOG_LIMIT. Never leased (see leasable() in domain.ts): a lease would spend units at
 * times the log never sees.
 */

export type LogEntry = { at: number; n: number };
export type SlidingLogState = { kind: "sliding_window_log"; at: number; entries: LogEntry[] };

/** The largest `limit` a sliding_window_log rule may have: the log keeps one entry per admitted unit. */
export const MAX_LOG_LIMIT = 10_000;

export function emptyLog(now: number): SlidingLogState {
	return { kind: "sliding_window_log", at: now, entries: [] };
}

/** Drops the entries that have aged out of the window ending at `now`. */
export function pruneLog(state: SlidingLogState, windowMs: number, now: number): SlidingLogState {
	const cutoff = now - windowMs;
	let first = 0;
	while (first < state.entries.length && (state.entries[first]?.at ?? Infinity) <= cutoff) first++;
	const at = Math.max(now, state.at);
	if (first === 0 && at === state.at) return state;
	return { kind: "sliding_window_log", at, entries: first === 0 ? state.entries : state.entries.slice(first) };
}

/** Units logged in the window (the state must be pruned to its `at`). */
export function loggedUnits(state: SlidingLogState): number {
	let units = 0;
	for (const entry of state.entries) units += entry.n;
	return units;
}

/** Logs `n` units at the state's time. */
export function appendLog(state: SlidingLogState, n: number): SlidingLogState {
	const last = state.entries.at(-1);
	const entries =
		last?.at === state.at
			? [...state.entries.slice(0, -1), { at: state.at, n: last.n + n }]
			: [...state.entries, { at: state.at, n }];
	return { ...state, entries };
}

/** Milliseconds until `n` units fit under `limit`: until enough of the oldest entries age out. */
export function logWaitMs(state: SlidingLogState, limit: number, windowMs: number, n: number, now: number): number {
	let toFree = loggedUnits(state) + n - limit;
	if (toFree <= 0) return 0;
	for (const entry of state.entries) {
		toFree -= entry.n;
		if (toFree <= 0) return Math.max(0, entry.at + windowMs - now);
	}
	return windowMs;
}

/** Milliseconds until the log is empty (every entry aged out). */
export function logResetMs(state: SlidingLogState, windowMs: number, now: number): number {
	const last = state.entries.at(-1);
	return last ? Math.max(0, last.at + windowMs - now) : 0;
}
