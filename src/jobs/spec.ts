import { z } from "zod";
import { MAX_PAYLOAD_BYTES, PRIORITIES } from "./domain";

export const JOB_TYPE = z
	.string()
	.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "1-64 of lowercase letters, digits, '.', '_', '-'");
export const JOB_ID = z.string().regex(/^job_[0-9a-f]{32}$/, "a job id (job_ followed by 32 hex digits)");

/** A job as submitted (POST /api/v1/jobs, bulk entries, a schedule's template). */
export const jobSpecSchema = z
	.object({
		type: JOB_TYPE,
		payload: z.unknown().default(null),
		priority: z.enum(PRIORITIES).default("medium"),
		max_retries: z.number().int().min(0).max(100).default(3),
		timeout_seconds: z.number().int().min(1).max(86_400).optional(),
		delay_seconds: z
			.number()
			.int()
			.min(0)
			.max(365 * 86_400)
			.optional(),
		run_at: z.iso.datetime({ offset: true }).optional(),
		dedupe_key: z.string().min(1).max(256).optional(),
		depends_on: z.array(JOB_ID).max(50).optional(),
	})
	.strict()
	.refine((j) => !(j.delay_seconds !== undefined && j.run_at !== undefined), {
		message: "give delay_seconds or run_at, not both",
		path: ["run_at"],
	})
	.refine((j) => payloadBytes(j.payload) <= MAX_PAYLOAD_BYTES, {
		message: `payload must serialize to at most ${MAX_PAYLOAD_BYTES} bytes`,
		path: ["payload"],
	});

export type JobSpec = z.infer<typeof jobSpecSchema>;

export function payloadBytes(payload: unknown): number {
	return new TextEncoder().encode(JSON.stringify(payload ?? null)).byteLength;
}

/** When a job may first run: now, after its delay, or at run_at (never in the past). */
export function firstReadyAt(spec: Pick<JobSpec, "delay_seconds" | "run_at">, now: number): number {
	if (spec.run_at !== undefined) return Math.max(now, Date.parse(spec.run_at));
	return now + (spec.delay_seconds ?? 0) * 1000;
}
