import type { DestinationPolicy } from "../platform/destination";
import { policyFromEnv } from "../platform/destination";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import { errorText, log } from "../platform/log";
import { TimeoutError } from "../platform/timeout";
import { CACHE_LIMITS } from "./domain";

/** A read-through load: the loader URL's JSON answer as canonical JSON text, or why there is none. */
export type LoadOutcome =
	| { ok: true; valueText: string; loadMs: number }
	| { ok: false; code: "destination_not_allowed"; reason: string }
	| { ok: false; code: "loader_failed"; reason: string; status: number | null }
	| { ok: false; code: "loader_invalid"; reason: string }
	| { ok: false; code: "value_too_large"; reason: string };

const DECODER = new TextDecoder();

/**
 * The outbound policy for loader URLs (tenant input). No `policyFromEnv` exists yet and
 * OUTBOUND_ALLOW_LOOPBACK_HTTP is not in Env (not in wrangler.toml): read by name so local
 * development can turn loopback on once the variable is declared; absent, loopback is refused.
 */
export function loaderPolicy(env: Env): DestinationPolicy {
	return policyFromEnv(env);
}

/** GETs `url` through safeFetch (timeout, byte cap, every hop checked) and keeps a 2xx JSON answer. */
export async function loadJson(url: string, policy: DestinationPolicy): Promise<LoadOutcome> {
	const started = Date.now();
	try {
		const res = await safeFetch(url, {
			policy,
			timeoutMs: CACHE_LIMITS.loaderTimeoutMs,
			maxResponseBytes: CACHE_LIMITS.maxValueBytes + 1,
			headers: { Accept: "application/json" },
		});
		if (res.status < 200 || res.status > 299) {
			return { ok: false, code: "loader_failed", reason: `the loader answered HTTP ${res.status}`, status: res.status };
		}
		if (res.truncated || res.body.byteLength > CACHE_LIMITS.maxValueBytes) {
			return { ok: false, code: "value_too_large", reason: "the loader's answer is over 128 KB" };
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(DECODER.decode(res.body));
		} catch {
			return { ok: false, code: "loader_invalid", reason: "the loader's answer is not JSON" };
		}
		return { ok: true, valueText: JSON.stringify(parsed), loadMs: Date.now() - started };
	} catch (error) {
		if (error instanceof DestinationRefusedError) {
			return { ok: false, code: "destination_not_allowed", reason: error.reason };
		}
		log.warn("cache loader failed", { error: errorText(error) });
		const reason =
			error instanceof TimeoutError ? "the loader did not answer in time" : "the loader could not be reached";
		return { ok: false, code: "loader_failed", reason, status: null };
	}
}
