import { checkDestination, policyFromEnv } from "../platform/destination";
import { AppError } from "../platform/errors";
import { sha256Hex } from "../platform/crypto";
import { writeToOrigin } from "./origin-write";
import type { CacheScope } from "./service";
import { forgetLocally } from "./lookup";
import { callShard, shardForKey } from "./service";

/**
 * Write-through and write-behind to a tenant's origin (docs/cache.md). Write-through: the origin
 * gets the value first and the cache only after the origin's 2xx, so the cache never holds a value
 * the origin refused; a failed origin write drops the key from the cache (the origin's state is then
 * unknown: a later read-through reads the truth). Write-behind: the shard stores the value and a
 * pending write in one step (src/cache/write-behind-db.ts) and its alarm delivers it.
 */

export type WriteOption = { mode: "through" | "behind"; url: string };

/**
 * The id the origin sees as `Idempotency-Key`: the caller's own key, or one derived from the
 * tenant, namespace, key and value, so a retried PUT of the same value is the same write.
 */
export async function originWriteId(
	callerKey: string | undefined,
	scope: CacheScope,
	key: string,
	valueText: string,
): Promise<string> {
	if (callerKey) return callerKey;
	return `cw_${(await sha256Hex(`${scope.tenantId}\n${scope.namespace}\n${key}\n${valueText}`)).slice(0, 40)}`;
}

/** Checks the origin URL; for write-through, delivers the value now (502 when the origin refuses it). */
export async function prepareOriginWrite(
	scope: CacheScope,
	key: string,
	valueText: string,
	write: WriteOption,
	writeId: string,
): Promise<void> {
	const policy = policyFromEnv(scope.env);
	const check = checkDestination(write.url, policy);
	if (!check.ok) {
		throw new AppError(400, "destination_not_allowed", `The origin URL is not allowed: ${check.reason}.`, {
			fields: [{ path: "write.url", message: check.reason }],
		});
	}
	if (write.mode !== "through") return;
	const outcome = await writeToOrigin({ url: write.url, key, valueText, idempotencyKey: writeId }, policy);
	if (outcome.ok) return;
	await callShard(shardForKey(scope, key).delete(key), "cache delete");
	forgetLocally(scope, key);
	throw new AppError(
		502,
		"origin_write_failed",
		`Write-through failed: ${outcome.reason}. The key was dropped from the cache.`,
		{
			retryable: outcome.retryable,
		},
	);
}
