import { z } from "zod";

/**
 * A circuit breaker (closed → open → half-open) as pure transitions. Closed: calls go through and
 * failures are counted in a sliding window; `failureThreshold` failures within `windowMs` open it.
 * Open: calls are refused until `cooldownMs` has passed; then exactly one trial call is let through
 * (half-open). The trial's success closes the breaker, its failure opens it again. A trial that
 * never reports back (its isolate died) is replaced after `trialTimeoutMs`.
 */

export type BreakerConfig = { failureThreshold: number; windowMs: number; cooldownMs: number; trialTimeoutMs: number };

export type BreakerState =
	| { state: "closed"; failures: number[] }
	| { state: "open"; openedAt: number }
	| { state: "half_open"; trialStartedAt: number };

export type Admission = { allowed: true; trial: boolean } | { allowed: false; retryAfterMs: number };

export const CLOSED: BreakerState = { state: "closed", failures: [] };

/** A stored state, parsed when the CircuitBreaker object reads it back. */
export const breakerStateSchema = z.discriminatedUnion("state", [
	z.object({ state: z.literal("closed"), failures: z.array(z.number()) }),
	z.object({ state: z.literal("open"), openedAt: z.number() }),
	z.object({ state: z.literal("half_open"), trialStartedAt: z.number() }),
]) satisfies z.ZodType<BreakerState>;

/** Whether a call may go to the protected service now, and the breaker's next state. */
export function admitCall(
	s: BreakerState,
	config: BreakerConfig,
	now: number,
): { admission: Admission; next: BreakerState } {
	switch (s.state) {
		case "closed":
			return { admission: { allowed: true, trial: false }, next: s };
		case "open": {
			const reopensAt = s.openedAt + config.cooldownMs;
			if (now < reopensAt) return { admission: { allowed: false, retryAfterMs: reopensAt - now }, next: s };
			return { admission: { allowed: true, trial: true }, next: { state: "half_open", trialStartedAt: now } };
		}
		case "half_open": {
			const trialEndsAt = s.trialStartedAt + config.trialTimeoutMs;
			if (now < trialEndsAt) return { admission: { allowed: false, retryAfterMs: trialEndsAt - now }, next: s };
			return { admission: { allowed: true, trial: true }, next: { state: "half_open", trialStartedAt: now } };
		}
	}
}

/** The state after a call admitted with `trial` reported its outcome. */
export function recordOutcome(
	s: BreakerState,
	config: BreakerConfig,
	now: number,
	outcome: { success: boolean; trial: boolean },
): BreakerState {
	switch (s.state) {
		case "closed": {
			if (outcome.success) return s;
			const failures = [...s.failures.filter((at) => at > now - config.windowMs), now];
			return failures.length >= config.failureThreshold
				? { state: "open", openedAt: now }
				: { state: "closed", failures };
		}
		case "open":
			// Late reports of calls admitted before the breaker opened change nothing.
			return s;
		case "half_open":
			if (!outcome.trial) return s;
			return outcome.success ? CLOSED : { state: "open", openedAt: now };
	}
}

/** The state as seen at `now` (failures outside the window dropped), for display and storage. */
export function currentState(s: BreakerState, config: BreakerConfig, now: number): BreakerState {
	return s.state === "closed"
		? { state: "closed", failures: s.failures.filter((at) => at > now - config.windowMs) }
		: s;
}
