import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Fingerprint, IdempotencyRecord } from "../../../src/gateway/idempotency/domain";
import { idempotencyRecordSchema } from "../../../src/gateway/idempotency/domain";
import { CHUNK_CHARS, writeRecord } from "../../../src/gateway/idempotency/shard-db";
import { createTenant } from "../helpers";

// The shard's one-statement paths (INSERT for a fresh key, a conditional UPDATE to complete, a
// conditional DELETE to release) must decide exactly as the read-decide-write paths they replace.

const FP: Fingerprint = { method: "POST", path: "/api/v1/echo", bodyHash: "h" };
const DAY = 86_400_000;
const RESPONSE = { status: 201, body: '{"ok":true}', headers: { "content-type": "application/json" } };

async function freshShard() {
	const { tenantId } = await createTenant();
	return { tenantId, shard: env.IDEMPOTENCY_SHARD.getByName(`${tenantId}:0`) };
}

function chunkRows(shard: DurableObjectStub, scope: string): Promise<number> {
	return runInDurableObject(
		shard,
		(_o, state) =>
			state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM idem_chunk WHERE scope = ?", scope).one().n,
	);
}

function rawRecord(shard: DurableObjectStub, scope: string): Promise<unknown> {
	return runInDurableObject(shard, (_o, state) => {
		const row = state.storage.sql.exec<{ record: string }>("SELECT record FROM idem_key WHERE scope = ?", scope).one();
		return JSON.parse(row.record) as unknown;
	});
}

describe("idempotency shard writes", () => {
	it("completes only for the lock holder's token and keeps the fingerprint and creation time", async () => {
		const { tenantId, shard } = await freshShard();
		const scope = `${tenantId}:k1`;
		const began = await shard.begin(scope, FP, 60_000, DAY);
		if (began.kind !== "acquired") throw new Error(`begin: ${began.kind}`);
		expect(began.tookOver).toBe(false);
		const held = await shard.inspect(scope);
		expect(held).toMatchObject({ state: "in_progress", token: began.token, fingerprint: FP });

		expect(await shard.complete(scope, "another-token", RESPONSE, DAY)).toBe(false);
		expect(await shard.inspect(scope)).toEqual(held);
		expect(await shard.complete(scope, began.token, RESPONSE, DAY)).toBe(true);
		// A second completion (a duplicate call) finds no lock to complete.
		expect(await shard.complete(scope, began.token, { ...RESPONSE, body: "other" }, DAY)).toBe(false);

		const raw = await rawRecord(shard, scope);
		// The stored JSON is a well-formed completed record: no lock fields left behind.
		expect(idempotencyRecordSchema.safeParse(raw).success).toBe(true);
		expect(raw).not.toHaveProperty("token");
		expect(raw).not.toHaveProperty("lockedUntil");
		const done = await shard.inspect(scope);
		if (done?.state !== "completed" || held?.state !== "in_progress") throw new Error("not completed");
		expect(done.fingerprint).toEqual(FP);
		expect(done.createdAt).toBe(held.createdAt);
		expect(done.response).toEqual(RESPONSE);
		expect(done.expiresAt).toBeGreaterThan(Date.now() + DAY - 60_000);
		expect(await shard.begin(scope, FP, 60_000, DAY)).toEqual({
			kind: "replay",
			response: RESPONSE,
			expiresAt: done.expiresAt,
		});
		expect(await shard.begin(scope, { ...FP, bodyHash: "x" }, 60_000, DAY)).toEqual({
			kind: "mismatch",
			field: "bodyHash",
		});
	});

	it("releases only for the lock holder's token, and a released key is fresh again", async () => {
		const { tenantId, shard } = await freshShard();
		const scope = `${tenantId}:k2`;
		const began = await shard.begin(scope, FP, 60_000, DAY);
		if (began.kind !== "acquired") throw new Error(`begin: ${began.kind}`);
		expect(await shard.begin(scope, FP, 60_000, DAY)).toMatchObject({ kind: "in_progress" });
		expect(await shard.release(scope, "another-token")).toBe(false);
		expect(await shard.size()).toBe(1);
		expect(await shard.release(scope, began.token)).toBe(true);
		expect(await shard.release(scope, began.token)).toBe(false);
		expect(await shard.size()).toBe(0);
		expect(await shard.begin(scope, FP, 60_000, DAY)).toMatchObject({ kind: "acquired", tookOver: false });
	});

	it("completes a lock written by the previous read-decide-write code (same stored JSON)", async () => {
		const { tenantId, shard } = await freshShard();
		const scope = `${tenantId}:k3`;
		const now = Date.now();
		const record: IdempotencyRecord = {
			state: "in_progress",
			fingerprint: FP,
			token: "old-token",
			lockedUntil: now + 60_000,
			createdAt: now - 5,
			expiresAt: now + DAY,
		};
		await runInDurableObject(shard, (_o, state) => writeRecord(state.storage.sql, scope, record));
		expect(await shard.complete(scope, "old-token", RESPONSE, DAY)).toBe(true);
		expect(await shard.inspect(scope)).toMatchObject({ state: "completed", createdAt: now - 5, response: RESPONSE });
	});

	it("clears an expired record's chunk rows when its key is taken again, then stores a large body in chunks", async () => {
		const { tenantId, shard } = await freshShard();
		const scope = `${tenantId}:k4`;
		const past = Date.now() - 1000;
		const big = "y".repeat(CHUNK_CHARS * 2 + 10);
		await runInDurableObject(shard, (_o, state) =>
			writeRecord(state.storage.sql, scope, {
				state: "completed",
				fingerprint: FP,
				response: { ...RESPONSE, body: big },
				createdAt: past - 1,
				completedAt: past,
				expiresAt: past,
			}),
		);
		expect(await chunkRows(shard, scope)).toBe(3);
		const began = await shard.begin(scope, { ...FP, bodyHash: "new" }, 60_000, DAY);
		if (began.kind !== "acquired") throw new Error(`begin: ${began.kind}`);
		expect(await chunkRows(shard, scope)).toBe(0);
		const body = "z".repeat(CHUNK_CHARS + 1);
		expect(await shard.complete(scope, began.token, { ...RESPONSE, body }, DAY)).toBe(true);
		expect(await chunkRows(shard, scope)).toBe(2);
		const done = await shard.inspect(scope);
		expect(done?.state === "completed" && done.response.body === body).toBe(true);
		// A lost lock stores no chunk rows either.
		expect(await shard.complete(scope, began.token, { ...RESPONSE, body: big }, DAY)).toBe(false);
		expect(await chunkRows(shard, scope)).toBe(2);
	});
});
