import { DurableObject } from "cloudflare:workers";

export type ClaimResult = { ok: true } | { ok: false; code: "nonce_reused" };

/**
 * The nonces one device has used within the clock-skew window. One object per device: a device's
 * nonces only ever collide with its own, so there is no hot key, the object lives near the device,
 * and the D1 primary (busy with the nightly ingest) gets no write per signed request. Expired
 * nonces are dropped by the alarm; a request older than the skew window is rejected before it
 * gets here, so forgetting them never lets a replay through.
 */
export class DeviceNonces extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
		});
	}

	/** Records a nonce until `expiresAt` (ms); a nonce already recorded and not expired is refused. */
	async claim(nonce: string, expiresAt: number): Promise<ClaimResult> {
		const now = Date.now();
		const seen = this.ctx.storage.sql
			.exec<{ expires_at: number }>("SELECT expires_at FROM nonces WHERE nonce = ?", nonce)
			.toArray()[0];
		if (seen && seen.expires_at > now) return { ok: false, code: "nonce_reused" };
		this.ctx.storage.sql.exec("INSERT OR REPLACE INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, expiresAt);
		const alarm = await this.ctx.storage.getAlarm();
		if (alarm === null || alarm > expiresAt) await this.ctx.storage.setAlarm(expiresAt);
		return { ok: true };
	}

	override async alarm(): Promise<void> {
		const now = Date.now();
		this.ctx.storage.sql.exec("DELETE FROM nonces WHERE expires_at <= ?", now);
		const next =
			this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM nonces").toArray()[0]
				?.next ?? null;
		if (next !== null) await this.ctx.storage.setAlarm(next);
	}
}
