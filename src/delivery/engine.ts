import { z } from "zod";
import type { DeliveryLane } from "../../durable-objects/delivery-lane";
import type { AttemptAnswer, Decision } from "./schedule";
import { decide } from "./schedule";
import { policyFromEnv } from "../platform/destination";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import { TimeoutError, sleep } from "../platform/timeout";
import { errorText, log } from "../platform/log";

/**
 * The destination-agnostic delivery engine. A queue message per attempt carries ids only; a
 * product (webhooks, notifications) supplies an adapter that loads what to send, claims the
 * attempt with a compare-and-set (so a duplicated message never sends twice), records the outcome
 * and re-enqueues. The engine does the rest: pacing and ordering through the destination's
 * DeliveryLane object, the safe outbound fetch with a deadline, the retry schedule with jitter,
 * Retry-After, dead letters with a reason.
 */

export const attemptMessageSchema = z.object({
	kind: z.literal("attempt"),
	tenant_id: z.string().min(1).max(64),
	delivery_id: z.string().min(1).max(64),
	/** The attempt this message is for (1-based); a message for an attempt already made is stale. */
	attempt: z.number().int().min(1).max(100),
});
export type AttemptMessage = z.infer<typeof attemptMessageSchema>;

export type OutboundRequest = { url: string; headers: Record<string, string>; body: string };

/** What one attempt got: the answer the schedule decides on and what the attempt log keeps. */
export type Exchange = { answer: AttemptAnswer; record: Omit<AttemptRecord, "attempt" | "decision"> };

export type PreparedDelivery = {
	/** Deliveries per second for this destination, or null for unpaced. */
	rateLimit: number | null;
	/** The DeliveryLane object's name (one per destination), and the ordering key within it, if ordered. */
	laneName: string;
	laneKey: string | null;
} & (
	| {
			/** Builds the request at send time (a fresh timestamp and signature on every attempt). */
			build: (nowMs: number) => Promise<OutboundRequest>;
			transmit?: undefined;
	  }
	| {
			/**
			 * Sends by other means than an HTTP POST (an email provider adapter, a Durable Object) and
			 * reports the answer in the engine's terms; the schedule, claim and record work as for `build`.
			 */
			transmit: (nowMs: number) => Promise<Exchange>;
			build?: undefined;
	  }
);

export type AttemptRecord = {
	attempt: number;
	statusCode: number | null;
	latencyMs: number;
	excerpt: string | null;
	error: string | null;
	decision: Decision;
};

export type DeliveryAdapter = {
	/** What to send, or null when the delivery is finished, unknown or not due (the message is stale). */
	load: (env: Env, msg: AttemptMessage) => Promise<PreparedDelivery | null>;
	/** Compare-and-set: true when this message now owns the attempt. */
	claim: (env: Env, msg: AttemptMessage, nowMs: number) => Promise<boolean>;
	/** Stores the attempt and the delivery's new state (and whatever the decision means for the destination). */
	record: (env: Env, msg: AttemptMessage, record: AttemptRecord, nowMs: number) => Promise<void>;
	/** Enqueues an attempt message. */
	send: (env: Env, msg: AttemptMessage, delaySeconds: number) => Promise<void>;
	/** The message of a delivery's next attempt (to start the next one of an ordered lane), or null. */
	nextMessage: (env: Env, tenantId: string, deliveryId: string) => Promise<AttemptMessage | null>;
};

export type AttemptOutcome = "stale" | "paced" | "waiting" | Decision["kind"];

/** A 2xx within this is success. */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** A paced attempt sleeps this long at most for its slot before it goes back to the queue. */
const MAX_INLINE_WAIT_MS = 2_000;
/** How much of an answer the attempt log keeps. */
export const RESPONSE_EXCERPT_BYTES = 1_024;

/** Runs one attempt message end to end; throws only when the outcome could not be stored (retry the message). */
export async function runAttempt(env: Env, adapter: DeliveryAdapter, msg: AttemptMessage): Promise<AttemptOutcome> {
	const prepared = await adapter.load(env, msg);
	if (!prepared) return "stale";
	const lane = prepared.rateLimit !== null || prepared.laneKey !== null ? laneStub(env, prepared.laneName) : null;
	if (lane && prepared.laneKey !== null && msg.attempt === 1 && !(await lane.admit(prepared.laneKey, msg.delivery_id)))
		return "waiting";
	if (lane && prepared.rateLimit !== null) {
		const waitMs = await waitForSlot(lane, prepared.rateLimit);
		if (waitMs > 0) {
			await adapter.send(env, msg, Math.ceil(waitMs / 1000));
			return "paced";
		}
	}
	const now = Date.now();
	if (!(await adapter.claim(env, msg, now))) return "stale";
	const { answer, record } =
		prepared.transmit !== undefined ? await prepared.transmit(now) : await exchange(env, await prepared.build(now));
	const decision = decide(answer, msg.attempt, Date.now(), Math.random());
	await adapter.record(env, msg, { ...record, attempt: msg.attempt, decision }, Date.now());
	if (decision.kind === "retry") {
		await adapter.send(
			env,
			{ kind: "attempt", tenant_id: msg.tenant_id, delivery_id: msg.delivery_id, attempt: msg.attempt + 1 },
			decision.delaySeconds,
		);
	} else if (prepared.laneKey !== null) {
		await startNextInLane(env, adapter, prepared.laneName, prepared.laneKey, msg);
	}
	return decision.kind;
}

/**
 * Asks the lane for a slot, sleeping out short waits (up to MAX_INLINE_WAIT_MS in all); 0 when the
 * slot is taken, else how long a re-enqueued message should wait.
 */
async function waitForSlot(lane: DurableObjectStub<DeliveryLane>, rate: number): Promise<number> {
	let waited = 0;
	for (;;) {
		const waitMs = await lane.pace(rate);
		if (waitMs === 0) return 0;
		if (waited + waitMs > MAX_INLINE_WAIT_MS) return waitMs;
		await sleep(waitMs);
		waited += waitMs;
	}
}

/**
 * An ordered lane's next delivery, once the one before it is finished (succeeded, dead or gone,
 * or ended outside an attempt: the dead-letter consumer calls this too).
 */
export async function startNextInLane(
	env: Env,
	adapter: DeliveryAdapter,
	laneName: string,
	laneKey: string,
	msg: Pick<AttemptMessage, "tenant_id" | "delivery_id">,
): Promise<void> {
	const lane = laneStub(env, laneName);
	const next = await lane.release(laneKey, msg.delivery_id);
	if (next === null) return;
	const nextMsg = await adapter.nextMessage(env, msg.tenant_id, next);
	if (nextMsg) await adapter.send(env, nextMsg, 0);
	else
		await lane
			.release(laneKey, next)
			.catch((err: unknown) => log.warn("lane release failed", { error: errorText(err) }));
}

async function exchange(env: Env, request: OutboundRequest): Promise<Exchange> {
	const started = Date.now();
	try {
		const res = await safeFetch(request.url, {
			method: "POST",
			headers: { "content-type": "application/json", ...request.headers },
			body: request.body,
			policy: policyFromEnv(env),
			timeoutMs: DELIVERY_TIMEOUT_MS,
			maxResponseBytes: RESPONSE_EXCERPT_BYTES,
		});
		return {
			answer: { kind: "response", status: res.status, retryAfter: res.headers.get("retry-after") },
			record: {
				statusCode: res.status,
				latencyMs: Date.now() - started,
				excerpt: new TextDecoder().decode(res.body),
				error: null,
			},
		};
	} catch (err) {
		const refused = err instanceof DestinationRefusedError;
		const message = err instanceof TimeoutError ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : errorText(err);
		return {
			answer: { kind: "error", message, refused },
			record: { statusCode: null, latencyMs: Date.now() - started, excerpt: null, error: message.slice(0, 500) },
		};
	}
}

function laneStub(env: Env, name: string) {
	return env.DELIVERY_LANE.getByName(name);
}
