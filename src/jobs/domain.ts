/** The job model shared by routes, the queue consumer and the pull API. No I/O. */

export const PRIORITIES = ["high", "medium", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const STATUSES = [
	"scheduled",
	"waiting",
	"queued",
	"processing",
	"completed",
	"failed",
	"dead",
	"cancelled",
] as const;
export type JobStatus = (typeof STATUSES)[number];

/** Statuses from which a job may be claimed once `ready_at` has passed. */
export const RUNNABLE: readonly JobStatus[] = ["queued", "scheduled", "failed"];
export const TERMINAL: readonly JobStatus[] = ["completed", "dead", "cancelled"];

/**
 * The built-in job types, run by the Worker from the jobs queue: the one list. Every one has a
 * handler in handlers/registry.ts (checked by its type and a unit test); data only, so domain
 * code can ask "is this built-in?" without importing handler code.
 */
export const BUILTIN_TYPES = ["noop", "http", "recording.advance"] as const;
export type BuiltinType = (typeof BUILTIN_TYPES)[number];
export const DEFAULT_TIMEOUT_SECONDS = 300;
/**
 * The longest timeout a built-in (queue-run) job may have: a consumer invocation has 15 minutes of
 * wall time, and a round must end, with its outcomes written, well inside it. External jobs are
 * not bounded by an invocation and may keep up to MAX_EXTERNAL_TIMEOUT_SECONDS.
 */
export const MAX_BUILTIN_TIMEOUT_SECONDS = 300;
export const MAX_EXTERNAL_TIMEOUT_SECONDS = 86_400;
/**
 * Subrequests one attempt of a built-in type may make: \`http\` is one fetch plus up to 3 redirect
 * hops (src/platform/safe-fetch.ts). A type with any is a fetching type: at most
 * OUTBOUND_CONNECTIONS of its jobs run at once in an invocation (src/jobs/budget.ts).
 */
export const BUILTIN_SUBREQUESTS: Record<BuiltinType, number> = { noop: 0, http: 4, "recording.advance": 0 };
export const DEFAULT_MAX_RETRIES = 3;
/** Dependencies one job may name (fan-in), and the longest chain of dependencies (depth). */
export const MAX_DEPENDS_ON = 20;
export const MAX_DEPENDENCY_DEPTH = 100;
/** Cloudflare Queues' maximum message delay; longer waits are kept by a Durable Object alarm. */
export const QUEUE_MAX_DELAY_SECONDS = 12 * 3600;
/** Cloudflare Queues' maximum message size; a job payload must fit in one. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

export function isBuiltinType(type: string): type is BuiltinType {
	return BUILTIN_TYPES.some((builtin) => builtin === type);
}

/** Subrequests an attempt of `type` may make (0 for a type that makes none or is not built-in). */
export function subrequestsOf(type: string): number {
	return isBuiltinType(type) ? BUILTIN_SUBREQUESTS[type] : 0;
}

export function isTerminal(status: JobStatus): boolean {
	return TERMINAL.includes(status);
}

/** What a finished attempt does to the job: complete it, schedule a retry, or kill it. */
export type AttemptOutcome = { kind: "completed"; result: unknown } | { kind: "failed"; error: string; retry: boolean };

export type NextState = { status: "completed" } | { status: "failed"; readyAt: number } | { status: "dead" };

/**
 * The status after an attempt. `attempts` counts this attempt; a job may run 1 + max_retries
 * times, so the attempt that reaches that number without success leaves the job dead.
 */
export function nextStateAfter(
	outcome: AttemptOutcome,
	attempts: number,
	maxRetries: number,
	now: number,
	backoffMs: number,
): NextState {
	if (outcome.kind === "completed") return { status: "completed" };
	if (!outcome.retry || attempts > maxRetries) return { status: "dead" };
	return { status: "failed", readyAt: now + backoffMs };
}
