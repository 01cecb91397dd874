import type { ClaimedJob } from "./claims-db";
import type { GateResult } from "../../durable-objects/jobs-type-gate";
import { declaredTypes } from "./declared-types";

/** Takes a per-type slot when the type has limits; types without limits never call the gate. */
export async function takeSlot(env: Env, job: ClaimedJob): Promise<GateResult> {
	const declared = (await declaredTypes(env.DB, job.tenant_id)).get(job.type);
	if (!declared || (declared.maxConcurrency === null && declared.ratePerSecond === null)) return { ok: true };
	return gateFor(env, job).acquire(
		job.id,
		{ maxConcurrency: declared.maxConcurrency, ratePerSecond: declared.ratePerSecond },
		job.timeout_seconds * 1000,
	);
}

export async function releaseSlot(env: Env, job: ClaimedJob): Promise<void> {
	const declared = (await declaredTypes(env.DB, job.tenant_id)).get(job.type);
	if (!declared || (declared.maxConcurrency === null && declared.ratePerSecond === null)) return;
	await gateFor(env, job).release(job.id);
}

export function gateFor(env: Env, job: Pick<ClaimedJob, "tenant_id" | "type">) {
	return env.JOB_TYPE_GATE.getByName(`${job.tenant_id}:${job.type}`);
}

/** The tenant's types that have a concurrency or rate limit (the only ones that use the gate). */
export async function limitedTypes(env: Env, tenantId: string): Promise<Set<string>> {
	const limited = new Set<string>();
	for (const d of (await declaredTypes(env.DB, tenantId)).values()) {
		if (d.maxConcurrency !== null || d.ratePerSecond !== null) limited.add(d.type);
	}
	return limited;
}
