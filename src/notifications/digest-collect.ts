import type { DeliveryRow } from "./db";
import type { NewDigest } from "./digest-db";
import type { Channel, Preferences } from "./domain";
import { CHANNELS } from "./domain";
import { digestKey, digestWindow } from "./digest-render";
import { sha256Hex } from "../platform/crypto";

/**
 * Puts a new notification's deliveries into their digests: when the user has a digest window for
 * the category, each non-critical queued delivery is planned into the digest of its channel and
 * window (status `digested`, `digest_id` set) and the digests it needs are returned, to be created
 * in the same transaction. The digest id is derived from (tenant, user, category, channel, window),
 * so concurrent sends agree on it and a digest exists once.
 */
export async function collectIntoDigests(
	prefs: Preferences,
	category: string,
	userId: string,
	deliveries: DeliveryRow[],
	now: number,
): Promise<NewDigest[]> {
	const minutes = prefs.digests?.[category]?.window_minutes;
	if (minutes === undefined) return [];
	const digests: NewDigest[] = [];
	for (const d of deliveries) {
		const channel = CHANNELS.find((c): c is Channel => c === d.channel);
		if (d.priority === "critical" || d.status !== "queued" || channel === undefined) continue;
		const { windowStart, flushAt } = digestWindow(d.deliver_at, minutes);
		const id = `dig_${(await sha256Hex(digestKey(d.tenant_id, userId, category, channel, windowStart))).slice(0, 24)}`;
		d.status = "digested";
		d.digest_id = id;
		d.reason = `collected into the ${minutes}-minute ${category} digest`;
		digests.push({
			id,
			tenant_id: d.tenant_id,
			user_id: userId,
			category,
			channel,
			window_start: windowStart,
			flush_at: flushAt,
			created_at: now,
		});
	}
	return digests;
}
