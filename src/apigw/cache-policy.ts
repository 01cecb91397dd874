import { APIGW_LIMITS } from "./domain";

/**
 * Which gateway responses may be kept in the shared Cache API cache, and for how long (RFC 9111
 * for a shared cache): only GET answers with status 200; `no-store` and `private` are never kept;
 * `s-maxage` wins over `max-age`; without either, the route's `cache_ttl`. Pure: no I/O.
 */

export type CacheStatus = "HIT" | "MISS" | "BYPASS";

/** Why a request skips the cache entirely (null: it may be served from the cache). */
export function requestBypassReason(method: string, headers: Headers): string | null {
	if (method !== "GET") return "method";
	const cc = directives(headers.get("Cache-Control"));
	if (cc.has("no-store") || cc.has("no-cache") || headers.get("Pragma")?.toLowerCase() === "no-cache")
		return "request cache-control";
	// A caller's own credentials make the answer personal: never shared between callers (RFC 9111 3.5).
	if (headers.has("Authorization") || headers.has("Cookie")) return "credentials";
	return null;
}

/** Seconds a response may be cached, or null when it must not be stored. */
export function storableTtl(status: number, headers: Headers, routeTtl: number): number | null {
	if (status !== 200) return null;
	if (headers.has("Set-Cookie")) return null;
	const vary = headers.get("Vary");
	if (vary !== null && vary.split(",").some((v) => v.trim() === "*")) return null;
	const cc = directives(headers.get("Cache-Control"));
	if (cc.has("no-store") || cc.has("private") || cc.has("no-cache")) return null;
	const explicit = seconds(cc.get("s-maxage")) ?? seconds(cc.get("max-age"));
	const ttl = explicit ?? routeTtl;
	if (ttl <= 0) return null;
	return Math.min(ttl, APIGW_LIMITS.maxCacheTtlSeconds);
}

/** The request header names a response varies on, lowercased and sorted (empty: no Vary). */
export function varyNames(headers: Headers): string[] {
	const vary = headers.get("Vary");
	if (!vary) return [];
	return [...new Set(vary.split(",").map((v) => v.trim().toLowerCase()))].filter((v) => v !== "").sort();
}

/** The text identifying a request's variant: each varied header's value (absent ≠ empty). */
export function variantText(names: readonly string[], request: Headers): string {
	return names.map((n) => `${n}:${request.has(n) ? `=${request.get(n)}` : "-"}`).join("\n");
}

/** A synthetic cache URL per tenant, route and route version: a changed route never serves old answers. */
export function cacheUrl(
	tenantId: string,
	route: { name: string; version: number },
	path: string,
	search: string,
): string {
	const key = new URL(`https://apigw-cache.invalid/${encodeURIComponent(tenantId)}/${route.name}/${route.version}`);
	key.pathname += path;
	key.search = search;
	return key.toString();
}

function directives(header: string | null): Map<string, string> {
	const out = new Map<string, string>();
	if (!header) return out;
	for (const part of header.split(",")) {
		const [name = "", value = ""] = part.split("=", 2).map((s) => s.trim());
		if (name !== "") out.set(name.toLowerCase(), value.replace(/^"|"$/g, ""));
	}
	return out;
}

function seconds(value: string | undefined): number | null {
	if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
	return Number(value);
}
