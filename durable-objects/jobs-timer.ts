import { DurableObject } from "cloudflare:workers";
import { sendRunTokens } from "../src/jobs/tokens";

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
		const token = await this.ctx.storage.get<{ tenantId: string; jobId: string; readyAt: number }>("token");
		if (!token) return;
		await sendRunTokens(this.env, [token], Math.max(Date.now(), token.readyAt));
		await this.ctx.storage.deleteAll();
	}
}
