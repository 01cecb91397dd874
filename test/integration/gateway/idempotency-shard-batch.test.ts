import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BeginDecision, Fingerprint } from "../../../src/gateway/idempotency/domain";
import { MAX_REPLAY_BODY_CHARS } from "../../../src/gateway/idempotency/domain";
import { callShard, shardBatchFigures } from "../../../src/gateway/idempotency/shard-batch";
import { keyHomes } from "../../../src/gateway/idempotency/store";
import { createTenant } from "../helpers";

// The home-shard calls coalesced in one request (the pool turns cross-request promise resolution
// off; test/e2e/idempotency-coalesce.e2e.mjs drives concurrent requests in the real runtime).

const FP: Fingerprint = { method: "POST", path: "/api/v1/echo", bodyHash: "h" };
const DAY = 86_400_000;
const RESPONSE = { status: 201, body: '{"ok":true}', headers: { "content-type": "application/json" } };
const background: Promise<unknown>[] = [];
const waitUntil = (p: Promise<unknown>) => void background.push(p);

/** A coalesced begin of `scope` on the shard `name` (a minute's lock, a day's retention). */
function begin(name: string, scope: string, fingerprint: Fingerprint = FP): Promise<BeginDecision | boolean> {
	return callShard(env, name, { kind: "begin", scope, fingerprint, lockMs: 60_000, retentionMs: DAY }, waitUntil);
}

function token(decision: BeginDecision | boolean): string {
	if (typeof decision === "boolean" || decision.kind !== "acquired")
		throw new Error(`not acquired: ${JSON.stringify(decision)}`);
	return decision.token;
}

describe("coalesced idempotency shard calls", () => {
	it("begins and completes concurrent keys of one shard in two RPCs each way, each durable and replayable", async () => {
		const { tenantId } = await createTenant();
		const name = `${tenantId}:0`;
		const scopes = Array.from({ length: 12 }, (_, i) => `${tenantId}:b-${i}`);
		const before = shardBatchFigures();
		const began = await Promise.all(scopes.map((scope) => begin(name, scope)));
		const tokens = began.map(token);
		const completed = await Promise.all(
			scopes.map((scope, i) =>
				callShard(
					env,
					name,
					{ kind: "complete", scope, token: tokens[i] ?? "", response: RESPONSE, retentionMs: DAY },
					waitUntil,
				),
			),
		);
		expect(completed).toEqual(scopes.map(() => true));
		const after = shardBatchFigures();
		expect(after.calls - before.calls).toBe(24);
		expect(after.rpcs - before.rpcs).toBe(4);
		const shard = env.IDEMPOTENCY_SHARD.getByName(name);
		for (const scope of scopes) expect((await shard.inspect(scope))?.state).toBe("completed");
		expect(await shard.begin(scopes[0] ?? "", FP, 60_000, DAY)).toMatchObject({ kind: "replay", response: RESPONSE });
	});

	it("decides a duplicate in the same batch as the first: one acquires, the other is told it runs", async () => {
		const { tenantId } = await createTenant();
		const name = `${tenantId}:0`;
		const [lead, first, twin, other] = await Promise.all([
			begin(name, `${tenantId}:lead`),
			begin(name, `${tenantId}:dup`),
			begin(name, `${tenantId}:dup`),
			begin(name, `${tenantId}:dup`, { ...FP, bodyHash: "other" }),
		]);
		expect(lead).toMatchObject({ kind: "acquired" });
		expect(first).toMatchObject({ kind: "acquired" });
		expect(twin).toMatchObject({ kind: "in_progress" });
		expect(other).toEqual({ kind: "mismatch", field: "bodyHash" });
	});

	it("releases only for the holder, and a wrong token in a batch fails nothing else", async () => {
		const { tenantId } = await createTenant();
		const name = `${tenantId}:0`;
		const scope = `${tenantId}:rel`;
		const held = token(await begin(name, scope));
		const [wrong, right] = await Promise.all([
			callShard(env, name, { kind: "release", scope, token: "not-the-holder" }, waitUntil),
			callShard(env, name, { kind: "release", scope, token: held }, waitUntil),
		]);
		expect([wrong, right]).toEqual([false, true]);
		expect(await env.IDEMPOTENCY_SHARD.getByName(name).inspect(scope)).toBeNull();
	});

	it("completes and replays the largest body kept, of control characters, whole", async () => {
		const { tenantId } = await createTenant();
		const name = `${tenantId}:0`;
		const scope = `${tenantId}:big`;
		// The largest body kept for replay (it goes alone: over the coalescer's 1 Mi characters).
		const body = "\u0001".repeat(MAX_REPLAY_BODY_CHARS);
		const held = token(await begin(name, scope));
		const before = shardBatchFigures();
		const response = { status: 200, body, headers: { "content-type": "text/plain" } };
		expect(
			await callShard(env, name, { kind: "complete", scope, token: held, response, retentionMs: DAY }, waitUntil),
		).toBe(true);
		expect(shardBatchFigures().rpcs - before.rpcs).toBe(1);
		const replay = await begin(name, scope);
		expect(replay).toMatchObject({ kind: "replay", response: { status: 200 } });
		if (typeof replay === "boolean" || replay.kind !== "replay") throw new Error("no replay");
		expect(replay.response.body.length).toBe(body.length);
		expect(replay.response.body === body).toBe(true);
	});

	it("answers replays past the batch's body budget alone, each whole", async () => {
		const { tenantId } = await createTenant();
		const name = `${tenantId}:0`;
		const scopes = Array.from({ length: 4 }, (_, i) => `${tenantId}:r-${i}`);
		// Four stored responses of the largest replayable size in two-byte characters (16 MiB each
		// once cloned): the first begin goes alone, the next three share one RPC, whose answer has
		// room for one (ANSWER_BODY_CHARS, 12 Mi); the other two ask again alone. Without the budget
		// that answer would be 48 MiB, past the 32 MiB RPC limit.
		const bodies = scopes.map((_, i) => String.fromCharCode(0x100 + i).repeat(MAX_REPLAY_BODY_CHARS));
		for (const [i, scope] of scopes.entries()) {
			const response = { status: 200, body: bodies[i] ?? "", headers: {} };
			const held = token(await begin(name, scope));
			expect(
				await callShard(env, name, { kind: "complete", scope, token: held, response, retentionMs: DAY }, waitUntil),
			).toBe(true);
		}
		const before = shardBatchFigures();
		const replays = await Promise.all(scopes.map((scope) => begin(name, scope)));
		expect(shardBatchFigures().rpcs - before.rpcs).toBe(2);
		for (const [i, replay] of replays.entries()) {
			if (typeof replay === "boolean" || replay.kind !== "replay") throw new Error(`no replay: ${i}`);
			expect(replay.response.body === bodies[i]).toBe(true);
		}
	});

	it("batches only the home shard: a key's older shard is still called directly", async () => {
		const { tenantId } = await createTenant();
		const plan = { shards: 4, previous: { shards: 1, until: Date.now() + DAY } };
		const scope = Array.from({ length: 50 }, (_, i) => `${tenantId}:m-${i}`).find(
			(s) => keyHomes(env, tenantId, s, plan).length === 2,
		);
		if (scope === undefined) throw new Error("no key moved");
		const before = shardBatchFigures();
		const homes = keyHomes(env, tenantId, scope, plan, waitUntil);
		expect(await homes[1]?.inspect()).toBeNull();
		await homes[0]?.begin(FP, 60_000, DAY);
		expect(shardBatchFigures().calls - before.calls).toBe(1);
	});
});
