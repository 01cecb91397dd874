import { groupForSendBatch } from "../platform/queue-limits";
import type { TelemetryMessage } from "./domain";
import { updateCount } from "./domain";

/**
 * Enqueues messages in sendBatch calls within the Queues limits and resolves once all of them are
 * in the queue. `onSent` reports each group's updates as it lands, so a failure halfway still
 * counts what was enqueued (a client resend of those is deduplicated by the consumer).
 */
export async function enqueueTelemetry(
	queue: Queue,
	bodies: readonly TelemetryMessage[],
	onSent: (updates: number) => void,
): Promise<void> {
	for (const group of groupForSendBatch(bodies)) {
		await queue.sendBatch(group.map((body) => ({ body, contentType: "json" as const })));
		onSent(group.reduce((sum, body) => sum + updateCount(body), 0));
	}
}
