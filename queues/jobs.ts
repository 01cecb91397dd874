import { runTokenSchema, sendUnitTokens, tokenUnits } from "../src/jobs/tokens";
import { runReadyJobs } from "../src/jobs/runner";
import { InvocationBudget } from "../src/jobs/budget";
import { errorText, log } from "../src/platform/log";

/** How long units left over because a per-type limit was reached wait before claiming again. */
const SATURATED_DELAY_SECONDS = 1;

/**
 * Consumer of floodgate-jobs. Each message is a run token standing for one or more jobs; tokens
 * are grouped by tenant and each group claims as many jobs as its units, by weighted priority, in
 * rounds. The groups share one budget of subrequests, outbound connections and wall time (the
 * limits are per invocation, src/jobs/budget.ts), and each is settled on its own: its tokens are
 * acked once its jobs' outcomes are in D1 (they are written as jobs finish, so an invocation that
 * dies midway re-runs none that finished) and the units it could not use are on new tokens, or
 * retried (with a delay) if that failed. A malformed message is acked and logged, never retried,
 * so it cannot re-deliver the batch.
 */
export async function handleJobsBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	const groups = new Map<string, { messages: Message[]; units: number }>();
	for (const msg of batch.messages) {
		const parsed = runTokenSchema.safeParse(msg.body);
		if (!parsed.success) {
			log.error("malformed job token dropped", { id: msg.id });
			msg.ack();
			continue;
		}
		const group = groups.get(parsed.data.tenant_id) ?? { messages: [], units: 0 };
		group.messages.push(msg);
		group.units += tokenUnits(parsed.data);
		groups.set(parsed.data.tenant_id, group);
	}
	const consumerId = `queue:${crypto.randomUUID()}`;
	const budget = new InvocationBudget({ startedAt: Date.now() });
	await Promise.all(
		[...groups].map(async ([tenantId, { messages, units }]) => {
			try {
				const { leftover, saturated } = await runReadyJobs(env, tenantId, units, consumerId, { budget });
				// Sent before the acks: a crash in between re-delivers surplus units, never loses any.
				if (leftover > 0) await sendUnitTokens(env, tenantId, leftover, saturated ? SATURATED_DELAY_SECONDS : 0);
				for (const m of messages) m.ack();
			} catch (err) {
				log.error("job batch failed; tokens retried", { tenant_id: tenantId, error: errorText(err) });
				for (const m of messages) m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) });
			}
		}),
	);
}
