import { insertJobDeadLetters } from "../src/jobs/dead-letters-db";

/**
 * Consumer of floodgate-jobs-dlq: tokens that kept failing are kept in D1 (job_dead_letters) for
 * operators; the jobs they pointed at stay in D1 and the sweeper gives them fresh tokens.
 */
export async function handleJobsDeadLetterBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	await insertJobDeadLetters(
		env.DB,
		batch.queue,
		batch.messages.map((m) => JSON.stringify(m.body ?? null)),
		Date.now(),
	);
	for (const m of batch.messages) m.ack();
}
