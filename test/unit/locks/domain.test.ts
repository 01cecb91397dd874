import { describe, expect, it } from "vitest";
import type { LockRequest, LockState } from "../../../src/locks/domain";
import {
	canGrantNow,
	checkFence,
	EMPTY_LOCK,
	expireLeases,
	grantLease,
	isCompatible,
	nextExpiry,
	promoteWaiters,
	releaseLease,
	renewLease,
	retryAfterSeconds,
} from "../../../src/locks/domain";

const T0 = 1_800_000_000_000;
const writer = (owner: string, ttlMs = 1000): LockRequest => ({ owner, mode: "exclusive", ttlMs });
const reader = (owner: string, ttlMs = 1000): LockRequest => ({ owner, mode: "shared", ttlMs });

function held(...requests: LockRequest[]): LockState {
	let state = EMPTY_LOCK;
	for (const request of requests) state = grantLease(state, request, T0).state;
	return state;
}

describe("lock leases", () => {
	it("grants increasing tokens with a lease until now + ttl", () => {
		const first = grantLease(EMPTY_LOCK, writer("a", 500), T0);
		expect(first.lease).toEqual({ owner: "a", token: 1, mode: "exclusive", grantedAt: T0, expiresAt: T0 + 500 });
		const second = grantLease({ ...first.state, leases: [] }, writer("b"), T0 + 600);
		expect(second.lease.token).toBe(2);
		expect(second.state.lastToken).toBe(2);
	});

	it("lets readers share and keeps a writer alone", () => {
		expect(isCompatible([], "exclusive")).toBe(true);
		expect(isCompatible(held(reader("r1")).leases, "shared")).toBe(true);
		expect(isCompatible(held(reader("r1")).leases, "exclusive")).toBe(false);
		expect(isCompatible(held(writer("w")).leases, "shared")).toBe(false);
		expect(isCompatible(held(writer("w")).leases, "exclusive")).toBe(false);
	});

	it("does not let a newcomer overtake a queued waiter, even a compatible reader", () => {
		const readers = held(reader("r1"));
		expect(canGrantNow(readers, 0, "shared")).toBe(true);
		expect(canGrantNow(readers, 1, "shared")).toBe(false);
	});

	it("expires a lease at its expiry, not before", () => {
		const state = held(writer("a", 1000));
		expect(expireLeases(state, T0 + 999).expired).toEqual([]);
		const after = expireLeases(state, T0 + 1000);
		expect(after.expired.map((l) => l.owner)).toEqual(["a"]);
		expect(after.state).toEqual({ lastToken: 1, leases: [] });
	});

	it("sets the alarm to the earliest expiry and Retry-After to the last", () => {
		const state = held(reader("r1", 3000), reader("r2", 1500));
		expect(nextExpiry(state)).toBe(T0 + 1500);
		expect(retryAfterSeconds(state, T0)).toBe(3);
		expect(retryAfterSeconds(state, T0 + 2999)).toBe(1);
		expect(nextExpiry(EMPTY_LOCK)).toBeNull();
	});
});

describe("the FIFO queue", () => {
	it("grants a writer waiting behind readers only when they are gone, and the readers behind it after", () => {
		const queue = [writer("w"), reader("r2"), reader("r3")];
		const busy = promoteWaiters(held(reader("r1")), queue, T0);
		expect(busy.granted).toEqual([]);
		const free = promoteWaiters({ ...busy.state, leases: [] }, queue, T0 + 10);
		expect(free.granted.map((g) => [g.waiter.owner, g.lease.token])).toEqual([["w", 2]]);
		expect(free.queue.map((w) => w.owner)).toEqual(["r2", "r3"]);
		const readers = promoteWaiters({ ...free.state, leases: [] }, free.queue, T0 + 20);
		expect(readers.granted.map((g) => [g.waiter.owner, g.lease.token])).toEqual([
			["r2", 3],
			["r3", 4],
		]);
		expect(readers.queue).toEqual([]);
	});

	it("stops a run of readers at the first writer so it is not starved", () => {
		const queue = [reader("r1"), reader("r2"), writer("w"), reader("r3")];
		const out = promoteWaiters(EMPTY_LOCK, queue, T0);
		expect(out.granted.map((g) => g.waiter.owner)).toEqual(["r1", "r2"]);
		expect(out.queue.map((w) => w.owner)).toEqual(["w", "r3"]);
	});
});

describe("renew and release", () => {
	it("renews a live lease from now and refuses another owner", () => {
		const state = held(writer("a", 1000));
		const renewed = renewLease(state, { owner: "a", token: 1, ttlMs: 5000 }, "a", T0 + 800);
		expect(renewed).toMatchObject({ ok: true, lease: { token: 1, expiresAt: T0 + 5800 } });
		expect(renewLease(state, { owner: "b", token: 1, ttlMs: 5000 }, "a", T0)).toEqual({
			ok: false,
			code: "not_owner",
		});
	});

	it("refuses to renew a lease that ended: someone may have held the lock since", () => {
		const ended = { lastToken: 1, leases: [] };
		expect(renewLease(ended, { owner: "a", token: 1, ttlMs: 1000 }, "a", T0)).toEqual({
			ok: false,
			code: "stale_token",
		});
		expect(renewLease(ended, { owner: "b", token: 1, ttlMs: 1000 }, "a", T0)).toEqual({
			ok: false,
			code: "not_owner",
		});
		expect(renewLease(ended, { owner: "a", token: 7, ttlMs: 1000 }, null, T0)).toEqual({
			ok: false,
			code: "stale_token",
		});
	});

	it("releases once, then answers released: null for the same owner and token", () => {
		const state = held(writer("a"));
		const first = releaseLease(state, { owner: "a", token: 1 }, "a");
		expect(first).toMatchObject({ ok: true, released: { token: 1 }, state: { lastToken: 1, leases: [] } });
		if (!first.ok) throw new Error("unreachable");
		expect(releaseLease(first.state, { owner: "a", token: 1 }, "a")).toMatchObject({ ok: true, released: null });
		expect(releaseLease(first.state, { owner: "b", token: 1 }, "a")).toEqual({ ok: false, code: "not_owner" });
		expect(releaseLease(first.state, { owner: "a", token: 2 }, null)).toEqual({ ok: false, code: "stale_token" });
		expect(releaseLease(state, { owner: "b", token: 1 }, "a")).toEqual({ ok: false, code: "not_owner" });
	});
});

describe("the fence", () => {
	it("accepts a token at or above the highest seen and refuses older and never-issued ones", () => {
		expect(checkFence(null, 3, 5)).toEqual({ ok: true });
		expect(checkFence(3, 3, 5)).toEqual({ ok: true });
		expect(checkFence(4, 3, 5)).toEqual({ ok: false, code: "fenced", highest: 4 });
		expect(checkFence(null, 6, 5)).toEqual({ ok: false, code: "unknown_token" });
	});
});
