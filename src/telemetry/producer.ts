import { groupForSendBatch, oversizedMessage } from "../platform/queue-limits";
import { AppError } from "../platform/errors";
import type { CoalescerOptions } from "../platform/send-coalescer";
import { createCoalescer } from "../platform/send-coalescer";
import { newId } from "../platform/crypto";
import type { TelemetryMessage } from "./domain";
import { updateCount } from "./domain";
import type { Lane } from "./lanes";
import { LANES, laneOf } from "./lanes";
import { packTelemetry } from "./pack";

/** The isolate's group commit for telemetry: its windows pack location messages (pack.ts). */
const sendTelemetry = createCoalescer<TelemetryMessage>();
const packWithFreshIds = (bodies: readonly TelemetryMessage[]) => packTelemetry(bodies, () => newId("msg"));

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
	coalesce?: Omit<CoalescerOptions, "pack">,
): Promise<void> {
	if (coalesce !== undefined && coalesce.windowMs > 0) {
		// Group commit: each message rides the isolate's next shared sendBatch, its location points
		// packed with other requests' (pack.ts); the request resolves once all of its own messages
		// are in, and fails if one of their groups failed.
		const options: CoalescerOptions<TelemetryMessage> = { ...coalesce, pack: packWithFreshIds };
		const outcomes = await Promise.allSettled(
			bodies.map((body) => sendTelemetry(queue, body, options).then(() => onSent(updateCount(body)))),
		);
		const failed = outcomes.find((o) => o.status === "rejected");
		if (failed !== undefined) throw failed.reason;
		return;
	}
	for (const group of groupForSendBatch(bodies)) {
		await queue.sendBatch(group.map((body) => ({ body, contentType: "json" as const })));
		onSent(group.reduce((sum, body) => sum + updateCount(body), 0));
	}
}

/** enqueueTelemetry for each lane's messages into that lane's queue (live first). */
export async function enqueueLanes(
	env: Pick<Env, "TELEMETRY_QUEUE" | "TELEMETRY_BACKFILL_QUEUE">,
	bodies: readonly TelemetryMessage[],
	onSent: (updates: number, lane: Lane) => void,
	coalesce?: Omit<CoalescerOptions, "pack">,
): Promise<void> {
	for (const lane of LANES) {
		const group = bodies.filter((body) => laneOf(body) === lane);
		if (group.length === 0) continue;
		const queue = lane === "live" ? env.TELEMETRY_QUEUE : env.TELEMETRY_BACKFILL_QUEUE;
		await enqueueTelemetry(queue, group, (n) => onSent(n, lane), coalesce);
	}
}
