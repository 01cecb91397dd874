import { DurableObject } from "cloudflare:workers";
import type { LeaseRequest } from "../src/gateway/limiter/lease";
import { decide } from "../src/gateway/limiter/lease";
import type { Policy, PolicyState, PolicyView } from "../src/gateway/limiter/domain";
import { advance, resetMs, storedPolicyStateSchema, viewOf } from "../src/gateway/limiter/domain";
import { log } from "../src/platform/log";

export type AcquireResult =
	| { allowed: true; granted: number; expiresAt: number; takenAt: number; views: PolicyView[] }
	| { allowed: false; retryAfterMs: number | null; unitWaitMs: number; violated: string[]; views: PolicyView[] };

/** A policy's state under its storage id. */
type StateEntry = { id: string; policy: Policy; state: PolicyState };

/** Idle state is dropped this long after every policy of the key is back to full quota. */
const IDLE_GRACE_MS = 60_000;

/**
 * The state of one limited key (a tenant, an API key, a client IP, a device, a service key):
 * every decision for the key runs here, one at a time, so a limit of N admits exactly N.
 * The math is in src/domain; this class only stores it.
 */
export class RateLimiter extends DurableObject<Env> {
	#states = new Map<string, { policy: Policy; state: PolicyState }>();
	#alarmAt = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			this.#createSchema();
			for (const row of ctx.storage.sql.exec<{ id: string; state: string }>("SELECT id, state FROM policy_state")) {
				const stored = storedPolicyStateSchema.safeParse(JSON.parse(row.state));
				// Written only by #store; a row that no longer parses (an older shape) starts afresh.
				if (stored.success) this.#states.set(row.id, stored.data);
				else log.error("rate limiter state unreadable; starting afresh", { id: row.id });
			}
			this.#alarmAt = (await ctx.storage.getAlarm()) ?? 0;
		});
	}

	/** Takes `cost` units from every policy (or none), possibly leasing more; see src/gateway/limiter/lease.ts. */
	acquire(policies: Policy[], request: LeaseRequest): AcquireResult {
		const now = Date.now();
		const ids = policies.map(stateId);
		const decision = decide(
			policies,
			ids.map((id) => this.#states.get(id)?.state),
			request,
			now,
		);
		const entries = decision.states.flatMap((state, i) => {
			const policy = policies[i];
			const id = ids[i];
			return policy && id !== undefined ? [{ id, policy, state }] : [];
		});
		this.#store(entries);
		this.#scheduleCleanup(entries, now);
		if (decision.allowed) {
			return {
				allowed: true,
				granted: decision.granted,
				expiresAt: decision.expiresAt,
				takenAt: now,
				views: decision.views,
			};
		}
		return {
			allowed: false,
			retryAfterMs: decision.retryAfterMs,
			unitWaitMs: decision.unitWaitMs,
			violated: decision.violated,
			views: decision.views,
		};
	}

	/** The current quota of each policy, taking nothing. */
	peek(policies: Policy[]): PolicyView[] {
		const now = Date.now();
		return policies.map((p) => viewOf(p, advance(p, this.#states.get(stateId(p))?.state, now), now));
	}

	override async alarm(): Promise<void> {
		const now = Date.now();
		const busy = [...this.#states.values()].some(
			({ policy, state }) => resetMs(policy, advance(policy, state, now), now) > 0,
		);
		if (busy) {
			this.#alarmAt = now + IDLE_GRACE_MS;
			await this.ctx.storage.setAlarm(this.#alarmAt);
			return;
		}
		this.#states.clear();
		this.#alarmAt = 0;
		// deleteAll frees the object's storage entirely (tables included); the instance may live on.
		await this.ctx.storage.deleteAll();
		this.#createSchema();
	}

	#createSchema(): void {
		this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS policy_state (id TEXT PRIMARY KEY, state TEXT NOT NULL)");
	}

	#store(entries: readonly StateEntry[]): void {
		for (const { id, policy, state } of entries) {
			if (this.#states.get(id)?.state === state) continue;
			const entry = { policy, state };
			this.#states.set(id, entry);
			this.ctx.storage.sql.exec(
				"INSERT INTO policy_state (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
				id,
				JSON.stringify(entry),
			);
		}
	}

	#scheduleCleanup(entries: readonly StateEntry[], now: number): void {
		const idleAt = now + Math.max(...entries.map(({ policy, state }) => resetMs(policy, state, now))) + IDLE_GRACE_MS;
		// Moving the alarm is a storage write: only push it out when it would fire too early.
		if (this.#alarmAt >= idleAt - IDLE_GRACE_MS / 2 && this.#alarmAt !== 0) return;
		this.#alarmAt = idleAt;
		void this.ctx.storage.setAlarm(idleAt);
	}
}

/** A policy's state is kept per name, algorithm and window: changing either starts afresh. */
function stateId(policy: Policy): string {
	return `${policy.name}|${policy.algorithm}|${policy.windowSeconds}`;
}
