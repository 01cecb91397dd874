import type { CoalescerFigures } from "../../platform/rpc-coalescer";
import type { BeginDecision, Fingerprint, StoredResponse } from "./domain";
import { RpcCoalescer } from "../../platform/rpc-coalescer";
import { withTimeout } from "../../platform/timeout";

/**
 * The calls a request makes to its key's home shard (begin, complete, release), coalesced per
 * isolate and shard without a timer (platform/rpc-coalescer.ts): idle, each call is one RPC as
 * before; while one RPC to a shard is in flight, the calls that arrive meanwhile leave together in
 * one `IdempotencyShard.many` as soon as it returns, and the shard applies them in one synchronous
 * run (one commit). Each call still gets its own answer only after that commit: the in-progress
 * record is durable before the handler runs, the completed one before the 2xx goes out.
 */
export type ShardOp =
	| { kind: "begin"; scope: string; fingerprint: Fingerprint; lockMs: number; retentionMs: number }
	| { kind: "complete"; scope: string; token: string; response: StoredResponse; retentionMs: number }
	| { kind: "release"; scope: string; token: string };

/** One op's outcome across RPC: only an Error's message would survive, so a failure is a value. */
export type ShardOpResult = { ok: true; value: BeginDecision | boolean } | { ok: false; error: string };

/** How long one shard RPC may take (the callers' own wait limit is the coalescer's, also 10 s). */
const SEND_LIMIT_MS = 10_000;
/** Ops per RPC at most: one shard run stays short, so a key waiting behind it does not wait long. */
const MAX_OPS = 64;
/** Response characters per RPC at most (a DO RPC message is at most 32 MiB); a larger body goes alone. */
const MAX_BODY_CHARS = 1024 * 1024;

const bodyChars = (op: ShardOp): number => (op.kind === "complete" ? op.response.body.length : 0);

/**
 * Replayed body characters one batch's answer carries at most (at most 2 bytes each once cloned,
 * under the 32 MiB RPC limit with room to spare). A replay that would pass it is answered
 * ANSWER_FULL instead (a replay writes nothing) and its caller asks again alone; a batch of one
 * op is never refused, and one body is at most MAX_REPLAY_BODY_CHARS (8 Mi).
 */
export const ANSWER_BODY_CHARS = 12 * 1024 * 1024;
export const ANSWER_FULL = "answer_full";

/** The replayed body characters a result carries (0 for anything but a replay). */
export function replayChars(result: ShardOpResult): number {
	return result.ok && typeof result.value !== "boolean" && result.value.kind === "replay"
		? result.value.response.body.length
		: 0;
}

const coalescer = new RpcCoalescer<ShardOp, ShardOpResult>(MAX_OPS, MAX_BODY_CHARS, bodyChars);

/** This isolate's figures (GET /metrics): home-shard calls and the RPCs that carried them. */
export function shardBatchFigures(): Readonly<CoalescerFigures> {
	return coalescer.figures();
}

/** Runs `op` on the shard `name`, batched with this isolate's concurrent calls to it. */
export async function callShard(
	env: Env,
	name: string,
	op: ShardOp,
	waitUntil: (promise: Promise<unknown>) => void,
): Promise<BeginDecision | boolean> {
	const result = await coalescer.call(name, op, {
		waitUntil,
		// The stub is made by whichever request sends the batch, in its own context. Bounded, so a
		// hung shard cannot hold the queue's sender (and every later call to the shard) forever.
		send: (ops) =>
			withTimeout(env.IDEMPOTENCY_SHARD.getByName(name).many(ops), SEND_LIMIT_MS, `idempotency shard ${name}`),
	});
	// A replay that did not fit the batch's answer: asked again alone, under the same bound.
	if (!result.ok && result.error === ANSWER_FULL && op.kind === "begin")
		return withTimeout<BeginDecision>(
			env.IDEMPOTENCY_SHARD.getByName(name).begin(op.scope, op.fingerprint, op.lockMs, op.retentionMs),
			SEND_LIMIT_MS,
			`idempotency shard ${name}`,
		);
	if (!result.ok) throw new Error(`idempotency shard ${name}: ${result.error}`);
	return result.value;
}
