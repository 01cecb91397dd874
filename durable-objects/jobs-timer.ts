import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { sendRunTokens } from "../src/jobs/tokens";

/** The token this object keeps, as stored by `arm` (parsed when read back, like any stored data). */
const storedTokenSchema = z.object({ tenantId: z.string(), jobId: z.string(), readyAt: z.number() });

/**
 * Holds the run token of one job whose delay exceeds the Queues maximum (12 h): an alarm at the
 * job's ready time sends the token. Storage first, then the alarm, so a restart keeps it.
 */
export class JobTimer extends DurableObject<Env> {
	async arm(tenantId: string, jobId: string, readyAt: number): Promise<void> {
		await this.ctx.storage.put("token", { tenantId, jobId, readyAt });
		await this.ctx.storage.setAlarm(readyAt);
	}

	override async alarm(): Promise<void> {
		const stored: unknown = await this.ctx.storage.get("token");
		if (stored === undefined) return;
		const token = storedTokenSchema.parse(stored);
		await sendRunTokens(this.env, [token], Math.max(Date.now(), token.readyAt));
		await this.ctx.storage.deleteAll();
	}
}
