import type { DistributedLock, LockHeld } from "../../durable-objects/locks-distributed-lock";
import type { Lease } from "./domain";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { TimeoutError, withTimeout } from "../platform/timeout";

export type LockStub = DurableObjectStub<DistributedLock>;

/** How long a lock call may take beyond the time it is allowed to wait in the queue. */
const CALL_MARGIN_MS = 10_000;

/** The object of one lock: one per tenant and name, so locks of different tenants never meet. */
export function lockStub(env: Env, tenantId: string, name: string): LockStub {
	return env.LOCKS.getByName(`${tenantId}:${name}`);
}

/**
 * One call to a lock object, bounded by `waitMs` plus a margin. An object that cannot be reached,
 * times out or restarts under the call (its queued waiters are lost) answers 503: retry.
 */
export async function callLock<T>(work: PromiseLike<T>, what: string, waitMs = 0): Promise<T> {
	try {
		return await withTimeout(work, waitMs + CALL_MARGIN_MS, what);
	} catch (error) {
		log.warn("lock call failed", { what, error: errorText(error), timeout: error instanceof TimeoutError });
		throw new AppError(503, "lock_unavailable", "The lock could not be reached; retry shortly.", undefined, {
			"Retry-After": "1",
		});
	}
}

/** 409 `lock_held`: who holds the lock, until when, and when to retry. */
export function lockHeldError(name: string, held: LockHeld): AppError {
	return new AppError(
		409,
		"lock_held",
		`Lock '${name}' is held; retry after ${held.retryAfterSeconds} s or acquire with wait_ms.`,
		{
			holders: held.holders.map((h) => ({ owner: h.owner, mode: h.mode, expires_at: h.expiresAt })),
			expires_at: held.freeAt,
			waiting: held.waiting,
		},
		{ "Retry-After": String(held.retryAfterSeconds) },
	);
}

/** 409 for a renew or release that names a grant the caller does not hold. */
export function leaseError(name: string, code: "stale_token" | "not_owner"): AppError {
	if (code === "not_owner") {
		return new AppError(409, "not_owner", `That token of lock '${name}' was granted to another owner.`);
	}
	return new AppError(
		409,
		"stale_token",
		`That token no longer holds lock '${name}' (expired, released or never issued); acquire it again.`,
	);
}

export function leaseJson(name: string, lease: Lease) {
	return {
		name,
		owner: lease.owner,
		token: lease.token,
		mode: lease.mode,
		granted_at: lease.grantedAt,
		expires_at: lease.expiresAt,
	};
}
