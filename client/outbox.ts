/** The device's outbox: requests kept until the platform answers 2xx (or refuses them for good). */

export type OutboxItem = {
	/** Unique per request; sent as the Idempotency-Key, so a retry never runs twice on the server. */
	id: string;
	method: "POST" | "PUT";
	path: string;
	body: unknown;
	attempts: number;
	createdAt: number;
};

/** A request dropped from the outbox: the platform refused it with a 4xx no retry can fix. */
export type RejectedItem = OutboxItem & {
	status: number;
	error: unknown;
	/** Why, for the device's log: the status with the platform's error code and message. */
	reason: string;
};

/** Where the outbox survives restarts: flash on a machine, KV or a Durable Object in a gateway. */
export type OutboxStorage = {
	load(): Promise<OutboxItem[]>;
	save(items: OutboxItem[]): Promise<void>;
};

/** An in-memory outbox (tests, or devices that accept losing it on a power cut). */
export function memoryStorage(initial: OutboxItem[] = []): OutboxStorage & { items: OutboxItem[] } {
	const store = {
		items: initial.map((i) => ({ ...i })),
		async load() {
			return store.items.map((i) => ({ ...i }));
		},
		async save(items: OutboxItem[]) {
			store.items = items.map((i) => ({ ...i }));
		},
	};
	return store;
}
