import type { JobRow } from "./db";

function iso(ms: number | null): string | null {
	return ms === null ? null : new Date(ms).toISOString();
}

function parsed(text: string | null): unknown {
	return text === null ? null : (JSON.parse(text) as unknown);
}

/** The public shape of a job (GET /api/v1/jobs/{id}). */
export function jobJson(job: JobRow) {
	return {
		job_id: job.id,
		type: job.type,
		status: job.status,
		priority: job.priority,
		progress: job.progress,
		payload: parsed(job.payload),
		result: parsed(job.result),
		error: job.error,
		attempts: job.attempts,
		max_retries: job.max_retries,
		timeout_seconds: job.timeout_seconds,
		dedupe_key: job.dedupe_key,
		cancel_requested: job.cancel_requested === 1,
		created_at: iso(job.created_at),
		started_at: iso(job.started_at),
		completed_at: iso(job.completed_at),
		next_attempt_at:
			job.status === "failed" || job.status === "scheduled" || job.status === "queued" ? iso(job.ready_at) : null,
	};
}
