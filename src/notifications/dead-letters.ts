import type { DeliveryRow } from "./db";
import { findDelivery } from "./db";
import { reviveDelivery, unreviveDelivery } from "./dead-letters-db";
import { enqueue } from "./service";
import { AppError } from "../platform/errors";

/**
 * Replaying a notification dead letter (a failed delivery: its provider refused it, its retries
 * ran out, or its attempt message reached floodgate-notifications-dlq): it is queued again with its
 * attempts reset and its first attempt goes through the same enqueue as a new send. The provider
 * idempotency key stays `notification:channel`, so a provider that did take the first try
 * deduplicates it.
 */

const REPLAYED = "replayed from the dead letters";

export async function replayDeadLetter(env: Env, tenantId: string, id: string): Promise<DeliveryRow> {
	const prior = await findDelivery(env.DB, tenantId, id);
	if (!prior) throw new AppError(404, "delivery_not_found", `No notification delivery '${id}'.`);
	const now = Date.now();
	if (!(await reviveDelivery(env.DB, tenantId, id, now))) {
		// A replay whose enqueue was lost (a crash in between) may be replayed again; the attempt's
		// compare-and-set keeps two messages from sending twice.
		if (!(prior.status === "queued" && prior.attempts === 0 && prior.reason === REPLAYED))
			throw new AppError(409, "not_a_dead_letter", `Delivery '${id}' is ${prior.status}, not failed.`, {
				status: prior.status,
			});
	}
	const revived = await findDelivery(env.DB, tenantId, id);
	if (!revived) throw new AppError(404, "delivery_not_found", `No notification delivery '${id}'.`);
	try {
		await enqueue(env, [revived], now);
	} catch (err) {
		await unreviveDelivery(env.DB, tenantId, id, prior.reason ?? "failed", Date.now());
		throw err;
	}
	return revived;
}
