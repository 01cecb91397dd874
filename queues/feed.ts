import { newId } from "../src/platform/crypto";
import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import type { FanoutMessage, LiveMessage } from "../src/social/domain";
import { SOCIAL_LIMITS, feedMessageSchema } from "../src/social/domain";
import { openStreamFollowers, usersWithOpenStreams, writeFeedSlice } from "../src/social/feed-db";
import type { DeadLetter } from "../src/platform/dead-letters-db";
import { insertDeadLetters } from "../src/platform/dead-letters-db";

type StreamedPost = { post_id: string; author_id: string; created_at: number };

/** Stream notifications in flight at once (the 6 simultaneous connections of an invocation). */
const PUBLISH_CONCURRENCY = 6;

/**
 * Consumer of floodgate-feed. A fan-out message is one slice (<= 500) of a post's followers: their
 * feed rows are inserted (idempotent: a redelivery inserts nothing new) and their feeds trimmed to
 * the cap in one transaction, then followers with an open home stream get the post through their
 * FeedStream object (best effort: a missed event is on the timeline). A `live` message is one step
 * of a celebrity post's walk over its author's followers (liveScan follow rows, at most
 * livePublish open streams notified), which sends the next step before notifying. Each message is
 * acked or retried on its own; an invalid one is retried into floodgate-feed-dlq.
 */
export async function handleFeedBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = feedMessageSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid feed message left for the dead-letter queue", { message_id: msg.id, attempts: msg.attempts });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		const m = parsed.data;
		try {
			if ("kind" in m) {
				await liveStep(env, m);
				msg.ack();
				continue;
			}
			const written = await writeFeedSlice(env.DB, m);
			msg.ack();
			if (written > 0) await notifyStreams(env, m);
		} catch (err) {
			log.error("feed message failed", { post_id: m.post_id, attempts: msg.attempts, error: errorText(err) });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		}
	}
}

/**
 * floodgate-feed-dlq: every dead message is kept in `dead_letters` (queue floodgate-feed, one row
 * per message id) for GET /api/v1/dead-letters?queue=floodgate-feed and its replay; bodies that do
 * not parse are kept as they are (not replayable). Acked once stored, else retried.
 */
export async function handleFeedDeadLetterBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const now = Date.now();
	const letters = batch.messages.map((msg): DeadLetter => {
		const parsed = feedMessageSchema.safeParse(msg.body);
		return {
			id: newId("dl"),
			queue: "floodgate-feed",
			messageId: `feed:${msg.id}`,
			tenantId: parsed.success ? parsed.data.tenant_id : null,
			kind: parsed.success ? ("kind" in parsed.data ? "live" : "fanout") : null,
			body: JSON.stringify(msg.body) ?? "null",
			// Telemetry's stats count updates in dead letters; a feed message carries none.
			updateCount: 0,
			reason: parsed.success ? "retries_exhausted" : "retries_exhausted: body is not a valid feed message",
			attempts: msg.attempts,
			createdAt: now,
		};
	});
	try {
		await insertDeadLetters(env.DB, letters);
		batch.ackAll();
	} catch (err) {
		log.error("feed dead letters not stored, retried", { count: letters.length, error: errorText(err) });
		batch.retryAll({ delaySeconds: retryDelaySeconds(batch.messages[0]?.attempts ?? 1) });
	}
}

async function notifyStreams(env: Env, m: FanoutMessage) {
	try {
		const open = await usersWithOpenStreams(env.DB, m.tenant_id, m.followers, Date.now());
		await publishTo(env, m.tenant_id, open, { post_id: m.post_id, author_id: m.author_id, created_at: m.created_at });
	} catch (err) {
		log.warn("feed stream notify failed", { post_id: m.post_id, error: errorText(err) });
	}
}

/** One step of a live walk: the next step is sent first (a failure retries this one), then the notifications. */
async function liveStep(env: Env, m: LiveMessage): Promise<void> {
	const limits = { scan: SOCIAL_LIMITS.liveScan, publish: SOCIAL_LIMITS.livePublish };
	const page = await openStreamFollowers(env.DB, m.tenant_id, m.author_id, m.after, limits, Date.now());
	if (page.next) await env.FEED_QUEUE.send({ ...m, after: page.next } satisfies LiveMessage);
	await publishTo(env, m.tenant_id, page.users, {
		post_id: m.post_id,
		author_id: m.author_id,
		created_at: m.created_at,
	});
}

/** A `post` event to each user's FeedStream, PUBLISH_CONCURRENCY at a time; failures are skipped. */
async function publishTo(env: Env, tenantId: string, users: readonly string[], post: StreamedPost): Promise<void> {
	for (let i = 0; i < users.length; i += PUBLISH_CONCURRENCY) {
		await Promise.allSettled(
			users
				.slice(i, i + PUBLISH_CONCURRENCY)
				.map((user) => env.FEED_STREAM.getByName(`${tenantId}:${user}`).publish(post)),
		);
	}
}
