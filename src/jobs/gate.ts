import type { ClaimedJob } from "./claims-db";
import type { GateLimits, GateResult } from "../../durable-objects/jobs-type-gate";
import type { DeclaredType } from "./declared-types";
import { declaredTypes } from "./declared-types";

/**
 * The limits of the tenant's types that have a concurrency or rate limit, by type: the only types
 * whose jobs use the JobTypeGate. Read once per run of a tenant's jobs.
 */
export async function typeLimits(db: D1Database, tenantId: string): Promise<Map<string, GateLimits>> {
	const limits = new Map<string, GateLimits>();
	for (const declared of (await declaredTypes(db, tenantId)).values()) {
		const typeLimit = limitsOf(declared);
		if (typeLimit) limits.set(declared.type, typeLimit);
	}
	return limits;
}

/** Takes a slot (and a rate token) for a job of a limited type, under that type's `limits`. */
export async function takeSlot(env: Env, job: ClaimedJob, limits: GateLimits): Promise<GateResult> {
	return gateFor(env, job).acquire(job.id, limits, job.timeout_seconds * 1000);
}

/** Gives back the slot a job of a limited type took. */
export async function releaseSlot(env: Env, job: ClaimedJob): Promise<void> {
	await gateFor(env, job).release(job.id);
}

export function gateFor(env: Env, job: Pick<ClaimedJob, "tenant_id" | "type">) {
	return env.JOB_TYPE_GATE.getByName(`${job.tenant_id}:${job.type}`);
}

function limitsOf(declared: DeclaredType): GateLimits | null {
	if (declared.maxConcurrency === null && declared.ratePerSecond === null) return null;
	return { maxConcurrency: declared.maxConcurrency, ratePerSecond: declared.ratePerSecond };
}
