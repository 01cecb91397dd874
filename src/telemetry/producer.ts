import { groupForSendBatch, oversizedMessage } from "../platform/queue-limits";
import { AppError } from "../platform/errors";
import type { TelemetryMessage } from "./domain";
import { updateCount } from "./domain";

/**
 * The 413 payload_too_large for messages that could never be enqueued (one over the 128 KB queue
 * message limit), or null. Such input passed validation but is too big as a whole, so no retry can
 * succeed: 413 like an oversized body (the same code, the same "send less" meaning), not a 503.
 */
export function tooLargeToEnqueue(bodies: readonly TelemetryMessage[]): AppError | null {
	const oversized = oversizedMessage(bodies);
	if (oversized === null) return null;
	return new AppError(
		413,
		"payload_too_large",
		`This telemetry is ${oversized.bytes} bytes as a queue message; the limit is ${oversized.maxBytes} bytes. Nothing was accepted: send less (fewer inventory slots, shorter strings), a retry of the same body cannot succeed.`,
		{ message_bytes: oversized.bytes, max_message_bytes: oversized.maxBytes },
	);
}

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
