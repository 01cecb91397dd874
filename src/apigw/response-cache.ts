import { sha256Hex } from "../platform/crypto";
import { cacheUrl, varyNames, variantText } from "./cache-policy";

/**
 * Gateway answers in the Cache API (caches.default: per data centre, not replicated), keyed per
 * tenant, route and route version. A response that varies is stored in two entries: a small
 * manifest at the base key naming the Vary headers, and the response itself under a key with the
 * hash of those request headers' values. The upstream's own Cache-Control and Vary are kept aside
 * and given back on a hit; the stored copy carries only the TTL the platform decided.
 */

type RouteKey = { name: string; version: number };

const MANIFEST = "Floodgate-Vary-Manifest";
const ORIGINAL_CC = "Floodgate-Original-Cache-Control";
const ORIGINAL_VARY = "Floodgate-Original-Vary";
const STORED_AT = "Floodgate-Stored-At";

/** A cached answer for this request, or null. */
export async function lookup(
	tenantId: string,
	route: RouteKey,
	path: string,
	search: string,
	request: Headers,
): Promise<Response | null> {
	const cache = caches.default;
	const base = cacheUrl(tenantId, route, path, search);
	let hit = await cache.match(base);
	const manifest = hit?.headers.get(MANIFEST);
	if (hit && manifest !== null && manifest !== undefined) {
		await hit.body?.cancel();
		hit = await cache.match(await variantUrl(base, manifest.split(","), request));
	}
	if (!hit) return null;
	const headers = new Headers(hit.headers);
	restore(headers, ORIGINAL_CC, "Cache-Control");
	restore(headers, ORIGINAL_VARY, "Vary");
	const storedAt = Number(headers.get(STORED_AT));
	headers.delete(STORED_AT);
	if (Number.isFinite(storedAt) && storedAt > 0)
		headers.set("Age", String(Math.max(0, Math.floor((Date.now() - storedAt) / 1000))));
	return new Response(hit.body, { status: hit.status, headers });
}

/** Stores an answer for `ttl` seconds (and, when it varies, its manifest). */
export async function store(
	tenantId: string,
	route: RouteKey,
	path: string,
	search: string,
	request: Headers,
	answer: { status: number; headers: Headers; body: Uint8Array<ArrayBuffer> },
	ttl: number,
): Promise<void> {
	const cache = caches.default;
	const base = cacheUrl(tenantId, route, path, search);
	const names = varyNames(answer.headers);
	const headers = new Headers(answer.headers);
	keepAside(headers, "Cache-Control", ORIGINAL_CC);
	keepAside(headers, "Vary", ORIGINAL_VARY);
	headers.set("Cache-Control", `max-age=${ttl}`);
	headers.set(STORED_AT, String(Date.now()));
	const copy = new Response(answer.body, { status: answer.status, headers });
	if (names.length === 0) {
		await cache.put(base, copy);
		return;
	}
	const manifest = new Response(null, {
		headers: { [MANIFEST]: names.join(","), "Cache-Control": `max-age=${ttl}` },
	});
	await Promise.all([cache.put(base, manifest), cache.put(await variantUrl(base, names, request), copy)]);
}

async function variantUrl(base: string, names: readonly string[], request: Headers): Promise<string> {
	const url = new URL(base);
	url.searchParams.append("__floodgate_variant", (await sha256Hex(variantText(names, request))).slice(0, 32));
	return url.toString();
}

function keepAside(headers: Headers, name: string, aside: string): void {
	const value = headers.get(name);
	headers.delete(name);
	if (value !== null) headers.set(aside, value);
}

function restore(headers: Headers, aside: string, name: string): void {
	const value = headers.get(aside);
	headers.delete(aside);
	if (value !== null) headers.set(name, value);
}
