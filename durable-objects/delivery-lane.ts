import { DurableObject } from "cloudflare:workers";
import type { Bucket } from "../src/delivery/schedule";
import { takeToken } from "../src/delivery/schedule";

/**
 * One delivery destination (a webhook endpoint; a notification channel later): paces deliveries
 * to its rate limit and, for ordered destinations, lets one delivery per ordering key be in flight,
 * the next waiting until it succeeded or died. The queue of waiting deliveries is in SQLite (it
 * must survive eviction); the pacing bucket is soft state in memory (after an eviction it starts
 * full again, which at worst allows one delivery early).
 */
export class DeliveryLane extends DurableObject<Env> {
	#bucket: Bucket | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(
				`CREATE TABLE IF NOT EXISTS waiting (
				   seq INTEGER PRIMARY KEY AUTOINCREMENT,
				   lane_key TEXT NOT NULL,
				   delivery_id TEXT NOT NULL UNIQUE
				 )`,
			);
			ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS waiting_by_key ON waiting(lane_key, seq)");
		});
	}

	/** 0 when the caller may deliver now (the slot is taken), else milliseconds until the next slot. */
	pace(ratePerSecond: number, now = Date.now()): number {
		const { bucket, waitMs } = takeToken(this.#bucket, ratePerSecond, now);
		this.#bucket = bucket;
		return waitMs;
	}

	/** Queues a delivery behind its key; true when it is the head (send it now). Idempotent. */
	admit(laneKey: string, deliveryId: string): boolean {
		this.ctx.storage.sql.exec(
			"INSERT INTO waiting (lane_key, delivery_id) VALUES (?, ?) ON CONFLICT (delivery_id) DO NOTHING",
			laneKey,
			deliveryId,
		);
		return this.#head(laneKey) === deliveryId;
	}

	/**
	 * The delivery is finished (succeeded or dead): it leaves the lane, and the new head is returned
	 * to be sent. Idempotent: a repeated call returns the current head again (its attempt is
	 * deduplicated by the delivery's own compare-and-set).
	 */
	release(laneKey: string, deliveryId: string): string | null {
		this.ctx.storage.sql.exec("DELETE FROM waiting WHERE delivery_id = ?", deliveryId);
		return this.#head(laneKey);
	}

	/** How many deliveries wait in the lane for a key (the head included). */
	depth(laneKey: string): number {
		const row = this.ctx.storage.sql
			.exec<{ n: number }>("SELECT COUNT(*) AS n FROM waiting WHERE lane_key = ?", laneKey)
			.toArray()[0];
		return row?.n ?? 0;
	}

	#head(laneKey: string): string | null {
		const row = this.ctx.storage.sql
			.exec<{ delivery_id: string }>("SELECT delivery_id FROM waiting WHERE lane_key = ? ORDER BY seq LIMIT 1", laneKey)
			.toArray()[0];
		return row?.delivery_id ?? null;
	}
}
