import { DurableObject } from "cloudflare:workers";
import type { Lease, LockMode, LockRequest, LockState } from "../src/locks/domain";
import {
	canGrantNow,
	checkFence,
	EMPTY_LOCK,
	expireLeases,
	freeAt,
	grantLease,
	nextExpiry,
	promoteWaiters,
	releaseLease,
	renewLease,
	retryAfterSeconds,
} from "../src/locks/domain";
import {
	createLockTables,
	endGrant,
	findGuarded,
	grantOwner,
	readLockState,
	saveExpiry,
	saveGrant,
	storeGuarded,
} from "../src/locks/lock-db";
import { errorText, log } from "../src/platform/log";

export type LockHeld = {
	ok: false;
	code: "lock_held";
	holders: Lease[];
	freeAt: number | null;
	retryAfterSeconds: number;
	waiting: number;
};
export type AcquireResult = { ok: true; lease: Lease; waitedMs: number } | LockHeld;
export type RenewResult = { ok: true; lease: Lease } | { ok: false; code: "stale_token" | "not_owner" };
export type ReleaseResult =
	{ ok: true; released: boolean; releasedAt: number | null } | { ok: false; code: "stale_token" | "not_owner" };
export type LockView = {
	holders: Lease[];
	mode: LockMode | null;
	freeAt: number | null;
	waiting: number;
	lastToken: number;
};
export type GuardedWriteResult =
	| { ok: true; token: number }
	| { ok: false; code: "fenced"; highest: number }
	| { ok: false; code: "unknown_token"; lastToken: number };
export type GuardedValue = { value: string; token: number };

/** A queued acquire: its request, and how to answer the caller that is still waiting for it. */
type Waiter = LockRequest & {
	id: number;
	queuedAt: number;
	answer: (result: AcquireResult) => void;
	timer: ReturnType<typeof setTimeout>;
};

/**
 * One distributed lock (`<tenant>:<name>`): leases with fencing tokens, a FIFO queue of waiters,
 * expiry by alarm, and the guarded values written under its tokens. Every method runs to its
 * first await without interleaving, so the decisions (src/locks/domain.ts) are linearizable. The
 * token counter and the leases are in SQLite; the waiters live only in memory: after a restart
 * the object has none, and their callers' calls fail or time out, and they retry.
 */
export class DistributedLock extends DurableObject<Env> {
	#state: LockState = EMPTY_LOCK;
	#queue: Waiter[] = [];
	#nextWaiterId = 1;
	/** The alarm as last set by this instance (read from storage at start). */
	#alarmAt: number | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createLockTables(ctx.storage.sql);
			this.#state = readLockState(ctx.storage.sql);
			this.#alarmAt = await ctx.storage.getAlarm();
		});
	}

	/** Grants the lock now, or queues the caller for up to `waitMs` (0: answers `lock_held` at once). */
	async acquire(request: LockRequest & { waitMs: number }): Promise<AcquireResult> {
		const now = Date.now();
		this.#advance(now);
		if (canGrantNow(this.#state, this.#queue.length, request.mode)) {
			const lease = this.#grant(request, now);
			await this.#syncAlarm();
			return { ok: true, lease, waitedMs: 0 };
		}
		if (request.waitMs <= 0) {
			const held = this.#held(now);
			await this.#syncAlarm();
			return held;
		}
		// Queued before the first await: a release that runs meanwhile already sees this waiter.
		const answer = new Promise<AcquireResult>((resolve) => {
			const id = this.#nextWaiterId++;
			const timer = setTimeout(() => this.#timeOut(id), request.waitMs);
			const { owner, mode, ttlMs } = request;
			this.#queue.push({ owner, mode, ttlMs, id, queuedAt: now, answer: resolve, timer });
		});
		await this.#syncAlarm();
		return answer;
	}

	/** Extends a live lease; an ended one is `stale_token` (acquire again for a new token). */
	async renew(request: { owner: string; token: number; ttlMs: number }): Promise<RenewResult> {
		const now = Date.now();
		this.#advance(now);
		const outcome = renewLease(this.#state, request, grantOwner(this.ctx.storage.sql, request.token), now);
		if (outcome.ok) {
			this.#state = outcome.state;
			saveExpiry(this.ctx.storage.sql, outcome.lease);
		}
		await this.#syncAlarm();
		return outcome.ok ? { ok: true, lease: outcome.lease } : { ok: false, code: outcome.code };
	}

	/** Ends a lease and hands the lock to the next waiters; an ended grant answers `released: false`. */
	async release(request: { owner: string; token: number }): Promise<ReleaseResult> {
		const now = Date.now();
		this.#advance(now);
		const outcome = releaseLease(this.#state, request, grantOwner(this.ctx.storage.sql, request.token));
		if (outcome.ok && outcome.released) {
			this.#state = outcome.state;
			endGrant(this.ctx.storage.sql, outcome.released.token, now);
			this.#promote(now);
		}
		await this.#syncAlarm();
		if (!outcome.ok) return { ok: false, code: outcome.code };
		return { ok: true, released: outcome.released !== null, releasedAt: outcome.released ? now : null };
	}

	async inspect(): Promise<LockView> {
		this.#advance(Date.now());
		await this.#syncAlarm();
		const holders = [...this.#state.leases];
		return {
			holders,
			mode: holders[0]?.mode ?? null,
			freeAt: freeAt(this.#state),
			waiting: this.#queue.length,
			lastToken: this.#state.lastToken,
		};
	}

	/** Stores `value` (JSON text) under `key` if `token` passes the fence; check and write are one step. */
	writeGuarded(key: string, token: number, value: string): GuardedWriteResult {
		const current = findGuarded(this.ctx.storage.sql, key);
		const fence = checkFence(current?.token ?? null, token, this.#state.lastToken);
		if (!fence.ok) {
			if (fence.code === "fenced") return fence;
			return { ok: false, code: "unknown_token", lastToken: this.#state.lastToken };
		}
		storeGuarded(this.ctx.storage.sql, key, value, token, Date.now());
		return { ok: true, token };
	}

	readGuarded(key: string): GuardedValue | null {
		return findGuarded(this.ctx.storage.sql, key);
	}

	/** Leases end at their expiry: the alarm (set to the earliest) hands the lock to the next waiters. */
	override async alarm(): Promise<void> {
		this.#alarmAt = null;
		this.#advance(Date.now());
		await this.#syncAlarm();
	}

	/** Ends the leases expired by `now` and grants what the queue can take. */
	#advance(now: number): void {
		const { state, expired } = expireLeases(this.#state, now);
		if (expired.length === 0) return;
		for (const lease of expired) endGrant(this.ctx.storage.sql, lease.token, lease.expiresAt);
		this.#state = state;
		this.#promote(now);
	}

	#promote(now: number): void {
		const { state, granted, queue } = promoteWaiters(this.#state, this.#queue, now);
		if (granted.length === 0) return;
		this.#state = state;
		this.#queue = queue;
		for (const { waiter, lease } of granted) {
			saveGrant(this.ctx.storage.sql, lease);
			clearTimeout(waiter.timer);
			waiter.answer({ ok: true, lease, waitedMs: now - waiter.queuedAt });
		}
	}

	#grant(request: LockRequest, now: number): Lease {
		const { state, lease } = grantLease(this.#state, request, now);
		this.#state = state;
		saveGrant(this.ctx.storage.sql, lease);
		return lease;
	}

	#timeOut(id: number): void {
		const now = Date.now();
		// A lease that expired a moment ago (alarm not run yet) is granted first, to this waiter too.
		this.#advance(now);
		const index = this.#queue.findIndex((w) => w.id === id);
		const waiter = index < 0 ? undefined : this.#queue.splice(index, 1)[0];
		if (waiter) {
			// The waiters behind it may be compatible with the holders now (readers behind a writer).
			this.#promote(now);
			waiter.answer(this.#held(now));
		}
		this.#syncAlarm().catch((error: unknown) => log.error("lock alarm not set", { error: errorText(error) }));
	}

	#held(now: number): LockHeld {
		return {
			ok: false,
			code: "lock_held",
			holders: [...this.#state.leases],
			freeAt: freeAt(this.#state),
			retryAfterSeconds: retryAfterSeconds(this.#state, now),
			waiting: this.#queue.length,
		};
	}

	/** Keeps the alarm at the earliest lease expiry; called synchronously after each change, so the last set wins. */
	#syncAlarm(): Promise<void> {
		const next = nextExpiry(this.#state);
		if (next === this.#alarmAt) return Promise.resolve();
		this.#alarmAt = next;
		return next === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(next);
	}
}
