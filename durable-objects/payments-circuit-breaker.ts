import { DurableObject } from "cloudflare:workers";
import type { Admission, BreakerConfig, BreakerState } from "../src/payments/breaker-domain";
import { admitCall, breakerStateSchema, CLOSED, currentState, recordOutcome } from "../src/payments/breaker-domain";
import { log } from "../src/platform/log";

/**
 * The shared state of one circuit breaker (named after what it guards), so every isolate sees the
 * same open/closed decision and only one half-open trial runs at a time. Transitions are in
 * src/payments/breaker-domain.ts; the caller passes the configuration (from env).
 */
export class CircuitBreaker extends DurableObject<Env> {
	#state: BreakerState = CLOSED;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(
				"CREATE TABLE IF NOT EXISTS breaker (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)",
			);
			const row = ctx.storage.sql.exec<{ state: string }>("SELECT state FROM breaker WHERE id = 1").toArray()[0];
			if (!row) return;
			const stored = breakerStateSchema.safeParse(JSON.parse(row.state));
			// Written only by #store; a state that no longer parses (an older shape) starts closed.
			if (stored.success) this.#state = stored.data;
			else log.error("circuit breaker state unreadable; starting closed", { breaker: ctx.id.name ?? null });
		});
	}

	/** Asks to make one call to the guarded service. */
	admit(config: BreakerConfig): Admission {
		const { admission, next } = admitCall(this.#state, config, Date.now());
		this.#store(next);
		return admission;
	}

	/** Reports the outcome of an admitted call. Returns the new state. */
	record(config: BreakerConfig, outcome: { success: boolean; trial: boolean }): BreakerState {
		this.#store(recordOutcome(this.#state, config, Date.now(), outcome));
		return this.#state;
	}

	/** The current state (for operators and tests). */
	inspect(config: BreakerConfig): BreakerState {
		return currentState(this.#state, config, Date.now());
	}

	#store(next: BreakerState): void {
		if (next === this.#state) return;
		this.#state = next;
		this.ctx.storage.sql.exec(
			"INSERT INTO breaker (id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
			JSON.stringify(next),
		);
	}
}
