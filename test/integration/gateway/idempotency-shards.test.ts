import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../../src/platform/app-env";
import { AppError, errorResponse } from "../../../src/platform/errors";
import { idempotency } from "../../../src/gateway/idempotency/middleware";
import { tenantAuth } from "../../../src/gateway/tenants/middleware";
import type { Fingerprint } from "../../../src/gateway/idempotency/domain";
import { canonicalBody, MAX_REPLAY_BODY_CHARS } from "../../../src/gateway/idempotency/domain";
import { sha256Hex } from "../../../src/platform/crypto";
import { writeRecord } from "../../../src/gateway/idempotency/shard-db";
import type { ShardPlan } from "../../../src/gateway/idempotency/shards";
import { shardIndex } from "../../../src/gateway/idempotency/shards";
import { beginKey, homeShardName, keyHomes, legacyHome } from "../../../src/gateway/idempotency/store";
import { PURGE_BATCH } from "../../../durable-objects/gateway-idempotency-shard";
import { call, createTenant, json } from "../helpers";

const FP: Fingerprint = { method: "POST", path: "/api/v1/echo", bodyHash: "h" };
const DAY = 86_400_000;

function echo(apiKey: string, key: string, body: unknown): Promise<Response> {
	return call("POST", "/api/v1/echo", { token: apiKey, body, headers: { "Idempotency-Key": key } });
}

describe("idempotency shards", () => {
	it("replays, refuses and locks keys created in the legacy one-object-per-key store during its window", async () => {
		const { tenantId, apiKey } = await createTenant();
		// Before the cut-over a request completed under "old-1" in its own IdempotencyKey object.
		const stored = await (await echo(apiKey, "warm-up", { a: 1 })).text();
		const legacy = legacyHome(env, `${tenantId}:old-1`);
		const bodyHash = await sha256Hex(canonicalBody(JSON.stringify({ a: 1 })));
		const fp = { method: "POST", path: "/api/v1/echo", bodyHash };
		const began = await legacy.begin(fp, 60_000, DAY);
		if (began.kind !== "acquired") throw new Error(`legacy begin: ${began.kind}`);
		const headers = { "content-type": "application/json" };
		expect(await legacy.complete(began.token, { status: 201, body: stored, headers }, DAY)).toBe(true);

		const replay = await echo(apiKey, "old-1", { a: 1 });
		expect(replay.status).toBe(201);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await replay.text()).toBe(stored);
		expect((await echo(apiKey, "old-1", { a: 2 })).status).toBe(422);

		// A legacy key still running answers 409, and the shard keeps nothing for it.
		const running = legacyHome(env, `${tenantId}:old-2`);
		expect((await running.begin(fp, 60_000, DAY)).kind).toBe("acquired");
		expect((await echo(apiKey, "old-2", { a: 1 })).status).toBe(409);
		const shard = env.IDEMPOTENCY_SHARD.getByName(homeShardName(env, tenantId, `${tenantId}:old-2`));
		expect(await shard.inspect(`${tenantId}:old-2`)).toBeNull();
	});

	it("finds a key made before the tenant's shard count grew, until the growth window ends", async () => {
		const { tenantId } = await createTenant();
		const before: ShardPlan = { shards: 1, previous: null };
		let scope = "";
		for (let i = 0; scope === ""; i++) if (shardIndex(`${tenantId}:g-${i}`, 8) !== 0) scope = `${tenantId}:g-${i}`;
		const first = await beginKey(keyHomes(env, tenantId, scope, before), FP, 60_000, DAY);
		if (first.decision.kind !== "acquired") throw new Error("first begin");
		const response = { status: 201, body: '{"n":1}', headers: {} };
		expect(await first.home.complete(first.decision.token, response, DAY)).toBe(true);

		const grown: ShardPlan = { shards: 8, previous: { shards: 1, until: Date.now() + DAY } };
		const again = await beginKey(keyHomes(env, tenantId, scope, grown), FP, 60_000, DAY);
		expect(again.decision).toMatchObject({ kind: "replay", response });
		// The new home kept no lock behind after handing the key to its previous shard.
		const home = env.IDEMPOTENCY_SHARD.getByName(`${tenantId}:${shardIndex(scope, 8)}`);
		expect(await home.inspect(scope)).toBeNull();

		const after: ShardPlan = { shards: 8, previous: { shards: 1, until: Date.now() - 1 } };
		const fresh = await beginKey(keyHomes(env, tenantId, scope, after), FP, 60_000, DAY);
		expect(fresh.decision.kind).toBe("acquired");
	});

	it("lets exactly one of many concurrent requests acquire a fresh key", async () => {
		const { tenantId } = await createTenant();
		const plan: ShardPlan = { shards: 4, previous: null };
		const homes = keyHomes(env, tenantId, `${tenantId}:race`, plan);
		const results = await Promise.all(Array.from({ length: 20 }, () => beginKey(homes, FP, 60_000, DAY)));
		const kinds = results.map((r) => r.decision.kind);
		expect(kinds.filter((k) => k === "acquired")).toHaveLength(1);
		expect(kinds.filter((k) => k === "in_progress")).toHaveLength(19);
	});

	it("replays a response larger than one SQLite value from chunk rows", async () => {
		const { tenantId, apiKey } = await createTenant();
		// ~800 KB of UTF-8 (under the 1 MB body limit) but 600 Ki characters: two chunk rows.
		const big = { blob: "é".repeat(200_000) + "x".repeat(400_000) };
		const first = await echo(apiKey, "big-1", big);
		expect(first.status).toBe(201);
		const body = await first.text();
		const scope = `${tenantId}:big-1`;
		const shard = env.IDEMPOTENCY_SHARD.getByName(homeShardName(env, tenantId, scope));
		const chunks = await runInDurableObject(
			shard,
			(_o, state) =>
				state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM idem_chunk WHERE scope = ?", scope).one().n,
		);
		expect(chunks).toBe(Math.ceil(body.length / (512 * 1024)));
		expect(chunks).toBeGreaterThan(1);
		// Straight from the shard (the isolate's replay cache keeps only small bodies).
		expect((await shard.inspect(scope))?.state === "completed" && (await shard.inspect(scope))).toMatchObject({
			response: { body },
		});
		const replay = await echo(apiKey, "big-1", big);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await replay.text()).toBe(body);
	});

	it("answers 410 for a repeat of a request whose response was too large to keep, and runs nothing again", async () => {
		const { apiKey } = await createTenant();
		let runs = 0;
		const app = new Hono<AppEnv>();
		app.use("/t/*", tenantAuth(), idempotency());
		app.post("/t/huge", (c) => {
			runs += 1;
			return c.text("x".repeat(MAX_REPLAY_BODY_CHARS + 1), 201);
		});
		app.onError((err, c) => errorResponse(c, err instanceof AppError ? err : new AppError(500, "internal_error", "")));
		const send = () =>
			app.fetch(
				new Request("http://floodgate.test/t/huge", {
					method: "POST",
					headers: { Authorization: `Bearer ${apiKey}`, "Idempotency-Key": "huge-1" },
				}),
				env,
				createExecutionContext(),
			);
		const first = await send();
		expect(first.status).toBe(201);
		expect((await first.text()).length).toBe(MAX_REPLAY_BODY_CHARS + 1);
		const again = await send();
		expect(again.status).toBe(410);
		expect(await json(again)).toMatchObject({
			error: { code: "idempotency_response_not_kept", details: { status: 201 } },
		});
		expect(runs).toBe(1);
	});

	it("purges expired records in bounded batches from the shard's alarm, keeping live ones", async () => {
		const { tenantId } = await createTenant();
		const shard = env.IDEMPOTENCY_SHARD.getByName(`${tenantId}:0`);
		const expired = PURGE_BATCH + 200;
		await runInDurableObject(shard, (_o, state) => {
			const past = Date.now() - 1000;
			for (let i = 0; i < expired; i++)
				writeRecord(state.storage.sql, `${tenantId}:x-${i}`, {
					state: "completed",
					fingerprint: FP,
					response: { status: 201, body: "{}", headers: {} },
					createdAt: past - 1,
					completedAt: past,
					expiresAt: past,
				});
		});
		const live = await beginKey(keyHomes(env, tenantId, `${tenantId}:live`, { shards: 1, previous: null }), FP, 1, DAY);
		expect(live.decision.kind).toBe("acquired");
		expect(await shard.size()).toBe(expired + 1);
		// One run, and the count read in the same turn: workerd fires a due alarm by itself, so the
		// run after it (scheduled at once) could otherwise land before the count is read.
		const left = await runInDurableObject(shard, async (instance) => {
			await instance.alarm();
			return instance.size();
		});
		expect(left).toBe(201);
		// A full batch schedules the next run at once: workerd runs it unasked, it removes the rest and
		// sets the alarm for the live key's expiry.
		await vi.waitFor(async () => expect(await shard.size()).toBe(1), { timeout: 10_000, interval: 50 });
		expect(await shard.inspect(`${tenantId}:live`)).not.toBeNull();
		expect(await runInDurableObject(shard, (_o, state) => state.storage.getAlarm())).toBeGreaterThan(
			Date.now() + DAY - 60_000,
		);
	});

	it("keeps one tenant's key out of another tenant's shards", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const fromA = await json(await echo(a.apiKey, "same", { n: 1 }));
		const fromB = await echo(b.apiKey, "same", { n: 1 });
		expect(fromB.headers.get("Idempotent-Replayed")).toBeNull();
		expect((await json(fromB)).echo_id).not.toBe(fromA.echo_id);
		const shardOfA = env.IDEMPOTENCY_SHARD.getByName(homeShardName(env, a.tenantId, `${a.tenantId}:same`));
		expect(await shardOfA.inspect(`${b.tenantId}:same`)).toBeNull();
	});
});
