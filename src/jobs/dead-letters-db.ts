/** Bodies longer than this are cut: a dead letter is for an operator to read, not to replay byte for byte. */
const MAX_BODY_CHARS = 10_000;

/** Keeps run tokens that kept failing (the jobs queue's dead letters) for operators, in one batch. */
export async function insertJobDeadLetters(
	db: D1Database,
	queue: string,
	bodies: readonly string[],
	receivedAt: number,
): Promise<void> {
	if (bodies.length === 0) return;
	await db.batch(
		bodies.map((body) =>
			db
				.prepare("INSERT INTO job_dead_letters (queue, body, received_at) VALUES (?, ?, ?)")
				.bind(queue, body.slice(0, MAX_BODY_CHARS), receivedAt),
		),
	);
}
