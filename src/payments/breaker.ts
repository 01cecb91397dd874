import type { Admission, BreakerConfig } from "./breaker-domain";

/**
 * The payment processor's circuit breaker. There is one per tenant: each tenant charges through
 * its own merchant account, and one object per tenant keeps every breaker well under a Durable
 * Object's ~1,000 req/s.
 */

/** Thresholds from env (BREAKER_*). A half-open trial that never reports is replaced after twice the processor timeout. */
export function breakerConfig(env: Env): BreakerConfig {
	return {
		failureThreshold: Number(env.BREAKER_FAILURE_THRESHOLD),
		windowMs: 1000 * Number(env.BREAKER_WINDOW_SECONDS),
		cooldownMs: 1000 * Number(env.BREAKER_COOLDOWN_SECONDS),
		trialTimeoutMs: 2 * Number(env.PAYMENT_PROCESSOR_TIMEOUT_MS),
	};
}

export function processorBreakerName(tenantId: string): string {
	return `payment-processor:${tenantId}`;
}

export function admitProcessorCall(env: Env, tenantId: string): Promise<Admission> {
	return env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId)).admit(breakerConfig(env));
}

/** Reports a call's outcome; successes outside a trial change nothing, so they are not sent. */
export async function reportProcessorCall(
	env: Env,
	tenantId: string,
	outcome: { success: boolean; trial: boolean },
): Promise<void> {
	if (outcome.success && !outcome.trial) return;
	await env.CIRCUIT_BREAKER.getByName(processorBreakerName(tenantId)).record(breakerConfig(env), outcome);
}
