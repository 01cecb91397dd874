/** What a job handler gets: its payload and ways to report progress, log, and see a cancel. */
export type JobContext = {
	jobId: string;
	tenantId: string;
	attempt: number;
	env: Env;
	/** Aborted when the job's timeout passes. */
	signal: AbortSignal;
	/** Records progress (0..1); throws JobCancelledError if the job was cancelled meanwhile. */
	progress(fraction: number): Promise<void>;
	log(message: string): void;
};

export type JobHandler = {
	/** zod-free check of the payload shape happens inside run(); a thrown Error fails the attempt. */
	run(payload: unknown, ctx: JobContext): Promise<unknown>;
};

/** Thrown by ctx.progress when the job was cancelled; the runner records the cancellation. */
export class JobCancelledError extends Error {
	constructor() {
		super("job cancelled");
		this.name = "JobCancelledError";
	}
}

/** A failure that retrying cannot fix (bad payload): the job goes dead at once. */
export class PermanentJobError extends Error {
	override name = "PermanentJobError";
}
