import { DurableObject } from "cloudflare:workers";
import type { LeaseRequest } from "../src/gateway/limiter/lease";
import { decide } from "../src/gateway/limiter/lease";
import type { Policy, PolicyState, PolicyView } from "../src/gateway/limiter/domain";
import { advance, resetMs, viewOf } from "../src/gateway/limiter/domain";
import { storedPolicyStateSchema } from "../src/gateway/limiter/stored-state";
import { log } from "../src/platform/log";
import type { LogEntry, SlidingLogState } from "../src/gateway/limiter/sliding-log";

export type AcquireResult =
	| { allowed: true; granted: number; expiresAt: number; takenAt: number; delayMs: number; views: PolicyView[] }
	| { allowed: false; retryAfterMs: number | null; unitWaitMs: number; violated: string[]; views: PolicyView[] };

/** A policy's state under its storage id. */
type StateEntry = { id: string; policy: Policy; state: PolicyState };

/** Idle state is dropped this long after every policy of the key is back to full quota. */
const IDLE_GRACE_MS = 60_000;

/**
 * The state of one limited key (a tenant, an API key, a client IP, a device, a service key):
 * every decision for the key runs here, one at a time, so a limit of N admits exactly N.
 * The math is in src/gateway/limiter/; this class only stores it. A sliding_window_log's entries
 * live in their own table (one row per millisecond with admissions), so a decision writes one row
 * and deletes the aged-out ones instead of rewriting the whole log.
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
				if (!stored.success) log.error("rate limiter state unreadable; starting afresh", { id: row.id });
				else if (stored.data.state.kind !== "sliding_window_log") this.#states.set(row.id, stored.data);
				else {
					const entries = [
						...ctx.storage.sql.exec<LogEntry>("SELECT at, n FROM log_entries WHERE id = ? ORDER BY at", row.id),
					].map(({ at, n }) => ({ at, n }));
					this.#states.set(row.id, { policy: stored.data.policy, state: { ...stored.data.state, entries } });
				}
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
				delayMs: decision.delayMs,
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
		this.ctx.storage.sql.exec(
			"CREATE TABLE IF NOT EXISTS log_entries (id TEXT NOT NULL, at INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (id, at)) WITHOUT ROWID",
		);
	}

	#store(entries: readonly StateEntry[]): void {
		for (const { id, policy, state } of entries) {
			const before = this.#states.get(id)?.state;
			if (before === state) continue;
			this.#states.set(id, { policy, state });
			if (state.kind === "sliding_window_log") {
				this.#storeLog(id, policy, before?.kind === "sliding_window_log" ? before : undefined, state);
				continue;
			}
			this.ctx.storage.sql.exec(
				"INSERT INTO policy_state (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
				id,
				JSON.stringify({ policy, state }),
			);
		}
	}

	/** Writes what changed in a log: the aged-out entries go, the newest entry is upserted. */
	#storeLog(id: string, policy: Policy, before: SlidingLogState | undefined, after: SlidingLogState): void {
		const sql = this.ctx.storage.sql;
		if (!before) {
			// The entries are in log_entries; the row only marks the policy (and survives a restart).
			const marker = { policy, state: { ...after, entries: [] } };
			sql.exec(
				"INSERT INTO policy_state (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
				id,
				JSON.stringify(marker),
			);
			sql.exec("DELETE FROM log_entries WHERE id = ?", id);
		}
		const oldest = after.entries[0]?.at ?? Number.POSITIVE_INFINITY;
		if (before && (before.entries[0]?.at ?? Number.POSITIVE_INFINITY) < oldest) {
			sql.exec("DELETE FROM log_entries WHERE id = ? AND at < ?", id, Number.isFinite(oldest) ? oldest : after.at + 1);
		}
		const last = after.entries.at(-1);
		const lastBefore = before?.entries.at(-1);
		if (last && (last.at !== lastBefore?.at || last.n !== lastBefore.n)) {
			sql.exec(
				"INSERT INTO log_entries (id, at, n) VALUES (?, ?, ?) ON CONFLICT (id, at) DO UPDATE SET n = excluded.n",
				id,
				last.at,
				last.n,
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
