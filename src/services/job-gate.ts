import type { JobRow } from "../db/jobs";
import type { GateResult } from "../../durable-objects/job-type-gate";
import { declaredTypes } from "./job-types";

/** Takes a per-type slot when the type has limits; types without limits never call the gate. */
export async function takeSlot(env: Env, job: JobRow): Promise<GateResult> {
	const declared = (await declaredTypes(env.DB, job.tenant_id)).get(job.type);
	if (!declared || (declared.maxConcurrency === null && declared.ratePerSecond === null)) return { ok: true };
	return gateFor(env, job).acquire(job.id, { maxConcurrency: declared.maxConcurrency, ratePerSecond: declared.ratePerSecond }, job.timeout_seconds * 1000);
}

export async function releaseSlot(env: Env, job: JobRow): Promise<void> {
	const declared = (await declaredTypes(env.DB, job.tenant_id)).get(job.type);
	if (!declared || (declared.maxConcurrency === null && declared.ratePerSecond === null)) return;
	await gateFor(env, job).release(job.id);
}

export function gateFor(env: Env, job: Pick<JobRow, "tenant_id" | "type">) {
	return env.JOB_TYPE_GATE.getByName(`${job.tenant_id}:${job.type}`);
}
