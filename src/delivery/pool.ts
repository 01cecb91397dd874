/**
 * How many deliveries one invocation runs at once. Workers allow 6 simultaneous outbound
 * connections per invocation; a seventh request waits for a free one while its own deadline runs,
 * so every delivery consumer (webhooks, notifications) stays at 6.
 */
export const MAX_SIMULTANEOUS_CONNECTIONS = 6;

/** Runs `work` over `items` in their order, at most `limit` at a time; `work` should not throw. */
export async function runPooled<T>(
	items: readonly T[],
	work: (item: T) => Promise<void>,
	limit = MAX_SIMULTANEOUS_CONNECTIONS,
): Promise<void> {
	const pending = [...items];
	const worker = async (): Promise<void> => {
		for (let item = pending.shift(); item !== undefined; item = pending.shift()) await work(item);
	};
	await Promise.all(Array.from({ length: Math.min(limit, pending.length) }, worker));
}
