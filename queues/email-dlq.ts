import { errorText, log } from "../src/platform/log";
import { retryDelaySeconds } from "../src/platform/queue-limits";
import { restartChain } from "../src/campaigns/service";
import { tickSchema } from "../src/campaigns/sender";

/**
 * Consumer of floodgate-email-dlq: a tick that failed all its retries (D1 or the provider adapter
 * broken for a long while). Nothing of the campaign is lost (its rows stay pending in the ledger):
 * the campaign gets a new chain, later, with its reason recorded; an invalid body is logged and dropped.
 */
export async function handleEmailDeadLetterBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	for (const msg of batch.messages) {
		const parsed = tickSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("invalid email dead letter dropped", {
				message_id: msg.id,
				body: JSON.stringify(msg.body).slice(0, 500),
			});
			msg.ack();
			continue;
		}
		try {
			await restartChain(env, parsed.data, "tick dead-lettered after its retries; chain restarted");
			msg.ack();
		} catch (err) {
			log.error("email dead letter not handled", { campaign_id: parsed.data.campaign_id, error: errorText(err) });
			msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
		}
	}
}
