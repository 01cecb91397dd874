import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { fanoutMessageSchema } from "../src/social/domain";
import { usersWithOpenStreams, writeFeedSlice } from "../src/social/feed-db";

/**
 * Consumer of floodgate-feed: each message is one slice (<= 500) of a post's followers. Their feed
 * rows are inserted (idempotent: a redelivery inserts nothing new) and their feeds trimmed to the
 * cap in one transaction, then followers with an open home stream get the post through their
 * FeedStream object (best effort: a missed event is on the timeline). Each message is acked or
 * retried on its own; an invalid one is retried into floodgate-feed-dlq.
 */
export async function handleFeedBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = fanoutMessageSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid feed message left for the dead-letter queue", { message_id: msg.id, attempts: msg.attempts });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
			continue;
		}
		const m = parsed.data;
		try {
			const written = await writeFeedSlice(env.DB, m);
			msg.ack();
			if (written > 0) await notifyStreams(env, m);
		} catch (err) {
			log.error("feed slice write failed", { post_id: m.post_id, attempts: msg.attempts, error: errorText(err) });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		}
	}
}

/** floodgate-feed-dlq: logged for an operator (a lost slice is repaired by the follower's rebuild). */
export async function handleFeedDeadLetterBatch(batch: MessageBatch, _env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		log.error("feed message dead-lettered", { message_id: msg.id, attempts: msg.attempts, body: msg.body });
		msg.ack();
	}
}

async function notifyStreams(
	env: Env,
	m: { tenant_id: string; post_id: string; author_id: string; created_at: number; followers: string[] },
) {
	try {
		const open = await usersWithOpenStreams(env.DB, m.tenant_id, m.followers, Date.now());
		const post = { post_id: m.post_id, author_id: m.author_id, created_at: m.created_at };
		await Promise.allSettled(open.map((user) => env.FEED_STREAM.getByName(`${m.tenant_id}:${user}`).publish(post)));
	} catch (err) {
		log.warn("feed stream notify failed", { post_id: m.post_id, error: errorText(err) });
	}
}
