import type { BeginDecision, Fingerprint, IdempotencyRecord, StoredResponse } from "./domain";
import type { ShardOp } from "./shard-batch";
import type { ShardPlan } from "./shards";
import { callShard } from "./shard-batch";
import { parseShardPlans, planFor, shardIndex, shardName, shardNames } from "./shards";

/**
 * Where a key's record is kept and read (I/O around shards.ts). A key's home is a row in one of
 * its tenant's IdempotencyShard objects. Two older places may still hold a key that is in its
 * retention window, and are read through for fresh keys only while they can:
 * - its previous shard, for a while after the tenant's shard count grew (IDEMPOTENCY_SHARD_PLANS);
 * - the one-object-per-key IdempotencyKey of before the shards, until IDEMPOTENCY_LEGACY_UNTIL.
 * A fresh key is first acquired in its home (so two requests racing on it meet there), then the
 * older places are asked; when one of them holds the key live, the home lock is released and
 * that place decides (replay, 409, 422) and keeps the key until it expires there.
 */

export type KeyHome = {
	begin(fingerprint: Fingerprint, lockMs: number, retentionMs: number): Promise<BeginDecision>;
	complete(token: string, response: StoredResponse, retentionMs: number): Promise<boolean>;
	release(token: string): Promise<boolean>;
	inspect(): Promise<IdempotencyRecord | null>;
};

export type Acquired = { decision: BeginDecision; home: KeyHome };

/** The shard plan of `tenantId` from the environment. */
export function shardPlan(env: Env, tenantId: string): ShardPlan {
	return planFor(tenantId, parseShardPlans(env.IDEMPOTENCY_SHARD_PLANS), Number(env.IDEMPOTENCY_SHARDS));
}

/** When legacy read-through stops (ms); 0 when IDEMPOTENCY_LEGACY_UNTIL is empty. */
export function legacyUntil(env: Env): number {
	const text = env.IDEMPOTENCY_LEGACY_UNTIL.trim();
	return text === "" ? 0 : Date.parse(text);
}

/**
 * Every place `scope` may live, its home first. Given the request's `waitUntil`, the home shard's
 * begin/complete/release are coalesced with this isolate's concurrent calls to it (shard-batch.ts);
 * the older places, read through rarely, are called one by one.
 */
export function keyHomes(
	env: Env,
	tenantId: string,
	scope: string,
	plan: ShardPlan,
	waitUntil?: (promise: Promise<unknown>) => void,
	now = Date.now(),
): KeyHome[] {
	const homes = shardNames(tenantId, scope, plan, now).map((name, i) =>
		i === 0 && waitUntil !== undefined ? batchedShardHome(env, name, scope, waitUntil) : shardHome(env, name, scope),
	);
	if (legacyUntil(env) > now) homes.push(legacyHome(env, scope));
	return homes;
}

/** The name of the shard `scope` is created in today (tests and operators). */
export function homeShardName(env: Env, tenantId: string, scope: string): string {
	return shardName(tenantId, shardIndex(scope, shardPlan(env, tenantId).shards));
}

/** The current home of `scope` (tests and operators). */
export function currentHome(env: Env, tenantId: string, scope: string): KeyHome {
	return shardHome(env, homeShardName(env, tenantId, scope), scope);
}

/** The one-object-per-key record of before the shards (migration tests, operators). */
export function legacyHome(env: Env, scope: string): KeyHome {
	const stub = env.IDEMPOTENCY_KEY.getByName(scope);
	return {
		begin: (fingerprint, lockMs, retentionMs) => stub.begin(fingerprint, lockMs, retentionMs),
		complete: (token, response, retentionMs) => stub.complete(token, response, retentionMs),
		release: (token) => stub.release(token),
		inspect: async () => {
			const record = await stub.inspect();
			return record !== null && record.expiresAt > Date.now() ? record : null;
		},
	};
}

/**
 * Begins `scope` in its home, reading through the older places for a fresh key. The returned home
 * is where the request completes or releases.
 */
export async function beginKey(
	homes: readonly KeyHome[],
	fingerprint: Fingerprint,
	lockMs: number,
	retentionMs: number,
): Promise<Acquired> {
	const [home, ...older] = homes;
	if (home === undefined) throw new Error("an idempotency key needs a home");
	const decision = await home.begin(fingerprint, lockMs, retentionMs);
	if (decision.kind !== "acquired" || decision.tookOver) return { decision, home };
	for (const place of older) {
		if ((await place.inspect()) === null) continue;
		await home.release(decision.token);
		return { decision: await place.begin(fingerprint, lockMs, retentionMs), home: place };
	}
	return { decision, home };
}

function shardHome(env: Env, name: string, scope: string): KeyHome {
	const stub = env.IDEMPOTENCY_SHARD.getByName(name);
	return {
		begin: (fingerprint, lockMs, retentionMs) => stub.begin(scope, fingerprint, lockMs, retentionMs),
		complete: (token, response, retentionMs) => stub.complete(scope, token, response, retentionMs),
		release: (token) => stub.release(scope, token),
		inspect: () => stub.inspect(scope),
	};
}

function batchedShardHome(
	env: Env,
	name: string,
	scope: string,
	waitUntil: (promise: Promise<unknown>) => void,
): KeyHome {
	const call = (op: ShardOp) => callShard(env, name, op, waitUntil);
	return {
		begin: async (fingerprint, lockMs, retentionMs) =>
			asDecision(await call({ kind: "begin", scope, fingerprint, lockMs, retentionMs })),
		complete: async (token, response, retentionMs) =>
			(await call({ kind: "complete", scope, token, response, retentionMs })) === true,
		release: async (token) => (await call({ kind: "release", scope, token })) === true,
		inspect: () => env.IDEMPOTENCY_SHARD.getByName(name).inspect(scope),
	};
}

function asDecision(value: BeginDecision | boolean): BeginDecision {
	if (typeof value === "boolean") throw new Error("an idempotency shard answered begin with a boolean");
	return value;
}
