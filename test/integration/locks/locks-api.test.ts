import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import type { ErrorJson } from "./lock-helpers";
import { acquire, errorCode, lockState, mustAcquire, mustRelease, release, renew, uniqueLock } from "./lock-helpers";

describe("locks API", () => {
	it("grants a lock with a fencing token, then answers 409 lock_held with Retry-After and the holder's expiry", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const grant = await mustAcquire(apiKey, name, { owner: "worker-1", ttl_ms: 5000 });
		expect(grant).toMatchObject({ name, owner: "worker-1", token: 1, mode: "exclusive", waited_ms: 0 });
		expect(grant.expires_at - grant.granted_at).toBe(5000);

		const busy = await acquire(apiKey, name, { owner: "worker-2", ttl_ms: 5000 });
		expect(busy.status).toBe(409);
		const retryAfter = Number(busy.headers.get("Retry-After"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(5);
		const body = await busy.json<ErrorJson>();
		expect(body.error.code).toBe("lock_held");
		expect(body.error.details).toEqual({
			holders: [{ owner: "worker-1", mode: "exclusive", expires_at: grant.expires_at }],
			expires_at: grant.expires_at,
			waiting: 0,
		});
	});

	it("answers 400 for a bad name, owner, ttl or wait", async () => {
		const { apiKey } = await createTenant();
		const bad = [
			["bad name!", { owner: "a", ttl_ms: 1000 }],
			["x".repeat(129), { owner: "a", ttl_ms: 1000 }],
			["ok", { owner: "", ttl_ms: 1000 }],
			["ok", { owner: "a".repeat(129), ttl_ms: 1000 }],
			["ok", { owner: "a", ttl_ms: 99 }],
			["ok", { owner: "a", ttl_ms: 300_001 }],
			["ok", { owner: "a", ttl_ms: 1000, wait_ms: 30_001 }],
			["ok", { owner: "a", ttl_ms: 1000, mode: "upgradable" }],
			["ok", { owner: "a" }],
		] as const;
		for (const [name, body] of bad) {
			const res = await acquire(apiKey, encodeURIComponent(name), body);
			expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
			expect(await errorCode(res)).toBe("validation_failed");
		}
	});

	it("renews the holder's live lease and refuses another owner (not_owner) and an ended grant (stale_token)", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const grant = await mustAcquire(apiKey, name, { owner: "a", ttl_ms: 1000 });
		const renewed = await renew(apiKey, name, { owner: "a", token: grant.token, ttl_ms: 60_000 });
		expect(renewed.status).toBe(200);
		const lease = await renewed.json<{ token: number; expires_at: number }>();
		expect(lease.token).toBe(grant.token);
		expect(lease.expires_at).toBeGreaterThanOrEqual(grant.granted_at + 60_000);

		const other = await renew(apiKey, name, { owner: "b", token: grant.token, ttl_ms: 1000 });
		expect(other.status).toBe(409);
		expect(await errorCode(other)).toBe("not_owner");
		const neverIssued = await renew(apiKey, name, { owner: "a", token: 99, ttl_ms: 1000 });
		expect(await errorCode(neverIssued)).toBe("stale_token");

		await mustRelease(apiKey, name, grant);
		const ended = await renew(apiKey, name, { owner: "a", token: grant.token, ttl_ms: 1000 });
		expect(ended.status).toBe(409);
		expect(await errorCode(ended)).toBe("stale_token");
	});

	it("releases idempotently: released once, then released:false; another owner or a token never issued get 409", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const grant = await mustAcquire(apiKey, name, { owner: "a", ttl_ms: 5000 });
		const stranger = await release(apiKey, name, "b", grant.token);
		expect(stranger.status).toBe(409);
		expect(await errorCode(stranger)).toBe("not_owner");

		await mustRelease(apiKey, name, grant);
		const again = await release(apiKey, name, "a", grant.token);
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual({ name, released: false, released_at: null });
		const strangerAfter = await release(apiKey, name, "b", grant.token);
		expect(await errorCode(strangerAfter)).toBe("not_owner");
		const future = await release(apiKey, name, "a", grant.token + 1);
		expect(future.status).toBe(409);
		expect(await errorCode(future)).toBe("stale_token");
		// Free again: the next grant has the next token.
		expect((await mustAcquire(apiKey, name, { owner: "b", ttl_ms: 1000 })).token).toBe(grant.token + 1);
	});

	it("shows the state: holders, expiry, waiting count and last token", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		expect(await lockState(apiKey, name)).toEqual({
			name,
			mode: null,
			holders: [],
			expires_at: null,
			waiting: 0,
			last_token: 0,
		});
		const grant = await mustAcquire(apiKey, name, { owner: "a", ttl_ms: 5000 });
		expect(await lockState(apiKey, name)).toEqual({
			name,
			mode: "exclusive",
			holders: [
				{ name, owner: "a", token: 1, mode: "exclusive", granted_at: grant.granted_at, expires_at: grant.expires_at },
			],
			expires_at: grant.expires_at,
			waiting: 0,
			last_token: 1,
		});
	});

	it("lets readers share the lock and keeps a writer out until they are gone", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const r1 = await mustAcquire(apiKey, name, { owner: "r1", ttl_ms: 5000, mode: "shared" });
		const r2 = await mustAcquire(apiKey, name, { owner: "r2", ttl_ms: 5000, mode: "shared" });
		expect([r1.token, r2.token]).toEqual([1, 2]);
		const writer = await acquire(apiKey, name, { owner: "w", ttl_ms: 5000 });
		expect(writer.status).toBe(409);
		await mustRelease(apiKey, name, r1);
		expect((await acquire(apiKey, name, { owner: "w", ttl_ms: 5000 })).status).toBe(409);
		await mustRelease(apiKey, name, r2);
		const w = await mustAcquire(apiKey, name, { owner: "w", ttl_ms: 5000 });
		expect(w.token).toBe(3);
		expect((await acquire(apiKey, name, { owner: "r3", ttl_ms: 5000, mode: "shared" })).status).toBe(409);
	});

	it("keeps tenants apart: tenant B neither sees nor releases tenant A's lock of the same name", async () => {
		const a = await createTenant("tenant-a");
		const b = await createTenant("tenant-b");
		const name = uniqueLock("shared-name");
		const grant = await mustAcquire(a.apiKey, name, { owner: "a", ttl_ms: 5000 });
		expect(await lockState(b.apiKey, name)).toMatchObject({ holders: [], last_token: 0 });
		const foreign = await release(b.apiKey, name, "a", grant.token);
		expect(foreign.status).toBe(409);
		expect(await errorCode(foreign)).toBe("stale_token");
		// B gets its own lock (its own token 1); A's lease is untouched.
		expect((await mustAcquire(b.apiKey, name, { owner: "b", ttl_ms: 5000 })).token).toBe(1);
		expect(await lockState(a.apiKey, name)).toMatchObject({ holders: [{ owner: "a", token: 1 }] });
	});

	it("replays a retried acquire with the same Idempotency-Key instead of granting twice", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const send = () =>
			call("POST", `/api/v1/locks/${name}/acquire`, {
				token: apiKey,
				body: { owner: "a", ttl_ms: 5000 },
				headers: { "Idempotency-Key": `acquire-${name}` },
			});
		const first = await send();
		const retry = await send();
		expect(retry.status).toBe(200);
		expect(await retry.json()).toEqual(await first.json());
		expect(await lockState(apiKey, name)).toMatchObject({ last_token: 1 });
	});

	it("requires an API key", async () => {
		const res = await acquire("", uniqueLock(), { owner: "a", ttl_ms: 1000 });
		expect(res.status).toBe(401);
	});
});
