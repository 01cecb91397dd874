import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lockStub } from "../../../src/locks/service";
import { createTenant, sleep } from "../helpers";
import type { Grant } from "./lock-helpers";
import { acquire, errorCode, lockState, mustAcquire, mustRelease, uniqueLock } from "./lock-helpers";

/** Polls the lock's state until `waiting` reaches `count`, so queue order in a test is known. */
async function waitForQueue(apiKey: string, name: string, count: number): Promise<void> {
	for (let i = 0; i < 200; i++) {
		if ((await lockState(apiKey, name)).waiting === count) return;
		await sleep(10);
	}
	throw new Error(`queue of ${name} never reached ${count}`);
}

describe("waiting for a lock", () => {
	it("queues waiters in FIFO order: the first gets the lock when the holder releases, the second after it", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const holder = await mustAcquire(apiKey, name, { owner: "holder", ttl_ms: 10_000 });
		const first = mustAcquire(apiKey, name, { owner: "first", ttl_ms: 10_000, wait_ms: 10_000 });
		await waitForQueue(apiKey, name, 1);
		const second = mustAcquire(apiKey, name, { owner: "second", ttl_ms: 10_000, wait_ms: 10_000 });
		await waitForQueue(apiKey, name, 2);

		const releasedAt = await mustRelease(apiKey, name, holder);
		const firstGrant = await first;
		expect(firstGrant).toMatchObject({ owner: "first", token: holder.token + 1 });
		expect(firstGrant.granted_at).toBeGreaterThanOrEqual(releasedAt);
		expect(firstGrant.waited_ms).toBeGreaterThan(0);
		expect(await lockState(apiKey, name)).toMatchObject({ waiting: 1, holders: [{ owner: "first" }] });

		const firstReleasedAt = await mustRelease(apiKey, name, firstGrant);
		const secondGrant = await second;
		expect(secondGrant).toMatchObject({ owner: "second", token: holder.token + 2 });
		expect(secondGrant.granted_at).toBeGreaterThanOrEqual(firstReleasedAt);
	});

	it("answers 409 lock_held once wait_ms passes with the lock still held", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		await mustAcquire(apiKey, name, { owner: "holder", ttl_ms: 10_000 });
		const started = Date.now();
		const res = await acquire(apiKey, name, { owner: "patient", ttl_ms: 1000, wait_ms: 300 });
		expect(res.status).toBe(409);
		expect(await errorCode(res)).toBe("lock_held");
		expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(250);
		expect(await lockState(apiKey, name)).toMatchObject({ waiting: 0, last_token: 1 });
	});

	it("does not let readers overtake a queued writer", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const reader = await mustAcquire(apiKey, name, { owner: "r1", ttl_ms: 10_000, mode: "shared" });
		const writer = mustAcquire(apiKey, name, { owner: "w", ttl_ms: 10_000, wait_ms: 10_000 });
		await waitForQueue(apiKey, name, 1);
		// A second reader would be compatible with r1, but the writer came first.
		const late = await acquire(apiKey, name, { owner: "r2", ttl_ms: 10_000, mode: "shared" });
		expect(late.status).toBe(409);
		const lateWaiter = mustAcquire(apiKey, name, { owner: "r2", ttl_ms: 10_000, mode: "shared", wait_ms: 10_000 });
		await waitForQueue(apiKey, name, 2);
		await mustRelease(apiKey, name, reader);
		const w = await writer;
		expect(w.token).toBe(2);
		await mustRelease(apiKey, name, w);
		expect((await lateWaiter).token).toBe(3);
	});

	it("expires a lease by alarm and grants the lock to the next waiter with a higher token", async () => {
		const { apiKey, tenantId } = await createTenant();
		const name = uniqueLock();
		const stale = await mustAcquire(apiKey, name, { owner: "sleepy", ttl_ms: 300 });
		const stub = lockStub(env, tenantId, name);
		expect(await runInDurableObject(stub, (_lock, state) => state.storage.getAlarm())).toBe(stale.expires_at);
		// Nothing else touches the object: only the alarm can end the lease and wake the waiter.
		const next = await mustAcquire(apiKey, name, { owner: "next", ttl_ms: 10_000, wait_ms: 10_000 });
		expect(next.token).toBe(stale.token + 1);
		expect(next.granted_at).toBeGreaterThanOrEqual(stale.expires_at);
		expect(await runInDurableObject(stub, (_lock, state) => state.storage.getAlarm())).toBe(next.expires_at);
	});

	it("ends expired leases when the alarm runs", async () => {
		const { apiKey, tenantId } = await createTenant();
		const name = uniqueLock();
		const grant = await mustAcquire(apiKey, name, { owner: "a", ttl_ms: 100 });
		const stub = lockStub(env, tenantId, name);
		await sleep(grant.expires_at - Date.now() + 20);
		// Whether the alarm already fired or runs now, the lease has ended and no alarm is left.
		await runDurableObjectAlarm(stub);
		expect(await runInDurableObject(stub, (_lock, state) => state.storage.getAlarm())).toBeNull();
		const rows = await runInDurableObject(stub, (_lock, state) =>
			state.storage.sql
				.exec<{ token: number; ended_at: number | null }>("SELECT token, ended_at FROM grants")
				.toArray(),
		);
		expect(rows).toEqual([{ token: 1, ended_at: grant.expires_at }]);
	});

	it("issues increasing tokens across expiries and across a restart of the object, which forgets its waiters", async () => {
		const { apiKey, tenantId } = await createTenant();
		const name = uniqueLock();
		const tokens: number[] = [];
		for (let i = 0; i < 3; i++) {
			const grant = await mustAcquire(apiKey, name, { owner: `c${i}`, ttl_ms: 100, wait_ms: 5000 });
			tokens.push(grant.token);
			// Not released: each lease expires and the next acquire gets a new token.
		}
		const waiter = acquire(apiKey, name, { owner: "waiter", ttl_ms: 1000, wait_ms: 10_000 });
		await sleep(50);
		// Restart: the object is reset; its memory (the waiter) is gone, its SQLite storage is not.
		await restart(lockStub(env, tenantId, name));
		const lost = await waiter;
		expect(lost.status).toBe(503);
		expect(await errorCode(lost)).toBe("lock_unavailable");

		const after: Grant = await mustAcquire(apiKey, name, { owner: "after", ttl_ms: 1000, wait_ms: 5000 });
		tokens.push(after.token);
		expect(tokens).toEqual([1, 2, 3, 4]);
		expect(await lockState(apiKey, name)).toMatchObject({ last_token: 4, waiting: 0 });
	});
});

/** Resets the object as a crash or deploy would (`ctx.abort()`): the next call gets a new instance. */
async function restart(stub: DurableObjectStub): Promise<void> {
	await runInDurableObject(stub, (_lock, state) => state.abort("test restart")).catch(() => undefined);
}
