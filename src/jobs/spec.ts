import { z } from "zod";
import type { DeclaredType } from "./declared-types";
import {
	MAX_BUILTIN_TIMEOUT_SECONDS,
	MAX_DEPENDS_ON,
	MAX_EXTERNAL_TIMEOUT_SECONDS,
	MAX_PAYLOAD_BYTES,
	PRIORITIES,
} from "./domain";
import { AppError } from "../platform/errors";

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
		// Built-in (queue-run) types: at most MAX_BUILTIN_TIMEOUT_SECONDS, checked with the declared types.
		timeout_seconds: z.number().int().min(1).max(MAX_EXTERNAL_TIMEOUT_SECONDS).optional(),
		delay_seconds: z
			.number()
			.int()
			.min(0)
			.max(365 * 86_400)
			.optional(),
		run_at: z.iso.datetime({ offset: true }).optional(),
		dedupe_key: z.string().min(1).max(256).optional(),
		depends_on: z.array(JOB_ID).max(MAX_DEPENDS_ON).optional(),
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

/**
 * A built-in type runs inside a queue consumer invocation, so its timeout is capped well under the
 * invocation's wall time; external types (run by the tenant's own workers) keep the long ceiling.
 * 400 `timeout_too_long` names the first spec over its cap.
 */
export function requireTimeouts(specs: readonly JobSpec[], types: ReadonlyMap<string, DeclaredType>): void {
	const index = specs.findIndex(
		(s) =>
			types.get(s.type)?.mode !== "external" &&
			s.timeout_seconds !== undefined &&
			s.timeout_seconds > MAX_BUILTIN_TIMEOUT_SECONDS,
	);
	const spec = specs[index];
	if (!spec) return;
	throw new AppError(
		400,
		"timeout_too_long",
		`timeout_seconds of a '${spec.type}' job may be at most ${MAX_BUILTIN_TIMEOUT_SECONDS} (built-in types run inside a queue consumer invocation); external types may have up to ${MAX_EXTERNAL_TIMEOUT_SECONDS}.`,
		{ index, type: spec.type, timeout_seconds: spec.timeout_seconds, max_timeout_seconds: MAX_BUILTIN_TIMEOUT_SECONDS },
	);
}
