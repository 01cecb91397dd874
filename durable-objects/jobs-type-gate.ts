import { DurableObject } from "cloudflare:workers";
import type { Policy, PolicyState } from "../src/gateway/limiter/domain";
import { advance, available, consume, waitMs } from "../src/gateway/limiter/domain";

export type GateLimits = { maxConcurrency: number | null; ratePerSecond: number | null };
export type GateResult = { ok: true } | { ok: false; code: "concurrency" | "rate"; retryAfterMs: number };

/**
 * Per-type limits of one tenant's job type, shared by every isolate: a concurrency semaphore of
 * leases (a lease expires with the job's timeout, so a crashed consumer cannot leak a slot) and a
 * token bucket refilled at rate_per_second (src/gateway/limiter/domain.ts).
 */
export class JobTypeGate extends DurableObject<Env> {
	#leases = new Map<string, number>();
	#bucket: PolicyState | undefined;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS leases (job_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
			for (const row of ctx.storage.sql.exec<{ job_id: string; expires_at: number }>(
				"SELECT job_id, expires_at FROM leases",
			)) {
				this.#leases.set(row.job_id, row.expires_at);
			}
		});
	}

	/** Takes a slot (and a rate token) for a job; idempotent for a job already holding one. */
	acquire(jobId: string, limits: GateLimits, leaseMs: number): GateResult {
		const now = Date.now();
		this.#expire(now);
		if (this.#leases.has(jobId)) return { ok: true };
		if (limits.maxConcurrency !== null && this.#leases.size >= limits.maxConcurrency) {
			const soonest = Math.min(...this.#leases.values()) - now;
			return { ok: false, code: "concurrency", retryAfterMs: Math.max(200, Math.min(1_000, soonest)) };
		}
		if (limits.ratePerSecond !== null) {
			const policy = bucketPolicy(limits.ratePerSecond);
			const state = advance(policy, this.#bucket, now);
			if (available(policy, state, now) < 1) {
				this.#bucket = state;
				return { ok: false, code: "rate", retryAfterMs: Math.max(50, waitMs(policy, state, 1, now) ?? 1_000) };
			}
			this.#bucket = consume(state, 1);
		}
		const expiresAt = now + leaseMs;
		this.#leases.set(jobId, expiresAt);
		this.ctx.storage.sql.exec("INSERT OR REPLACE INTO leases (job_id, expires_at) VALUES (?, ?)", jobId, expiresAt);
		return { ok: true };
	}

	release(jobId: string): void {
		if (!this.#leases.delete(jobId)) return;
		this.ctx.storage.sql.exec("DELETE FROM leases WHERE job_id = ?", jobId);
	}

	/** Slots held now (for tests and metrics). */
	active(): number {
		this.#expire(Date.now());
		return this.#leases.size;
	}

	#expire(now: number): void {
		for (const [id, at] of this.#leases) {
			if (at <= now) {
				this.#leases.delete(id);
				this.ctx.storage.sql.exec("DELETE FROM leases WHERE job_id = ?", id);
			}
		}
	}
}

/** rate_per_second as a token bucket over one second holding at least one token. */
function bucketPolicy(rate: number): Policy {
	return {
		name: "rate",
		algorithm: "token_bucket",
		limit: rate,
		windowSeconds: 1,
		burst: Math.max(1, Math.ceil(rate)),
	};
}
