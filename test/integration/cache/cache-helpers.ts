import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { ringFor, shardOf } from "../../../src/cache/ring";
import { shardCount } from "../../../src/cache/service";
import { call } from "../helpers";

export type ErrorJson = { error: { code: string; message: string; details?: Record<string, unknown> } };
export type CacheValue = {
	key: string;
	value: unknown;
	hit: boolean;
	loaded?: boolean;
	ttl_remaining: number;
	source: string;
};
export type Stats = {
	shards: number;
	total_keys: number;
	memory_used: number;
	hit_rate: number;
	hits: number;
	misses: number;
	evictions: number;
	write_behind: { pending: number; failed: number };
};

let counter = 0;

/** A namespace no other test uses (shard objects persist across the tests of a file). */
export function uniqueNamespace(prefix = "ns"): string {
	return `${prefix}-${Date.now().toString(36)}-${counter++}`;
}

export function put(apiKey: string, ns: string, key: string, body: Record<string, unknown>): Promise<Response> {
	return call("PUT", `/api/v1/cache/${ns}/${encodeURIComponent(key)}`, { token: apiKey, body });
}

export async function mustPut(apiKey: string, ns: string, key: string, value: unknown, ttl = 60, tags?: string[]) {
	const res = await put(apiKey, ns, key, { value, ttl, ...(tags ? { tags } : {}) });
	if (res.status !== 200) throw new Error(`put ${key}: ${res.status} ${await res.text()}`);
	return res.json<{ key: string; expires_at: number; evicted: number }>();
}

export function get(apiKey: string, ns: string, key: string, query = ""): Promise<Response> {
	return call("GET", `/api/v1/cache/${ns}/${encodeURIComponent(key)}${query}`, { token: apiKey });
}

/** The value under `key`, or null on a 404 cache_miss (anything else fails the test). */
export async function read(apiKey: string, ns: string, key: string, query = ""): Promise<CacheValue | null> {
	const res = await get(apiKey, ns, key, query);
	if (res.status === 404) {
		expect((await res.json<ErrorJson>()).error.code).toBe("cache_miss");
		return null;
	}
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<CacheValue>();
}

export async function stats(apiKey: string, ns: string): Promise<Stats> {
	const res = await call("GET", `/api/v1/cache/${ns}/stats`, { token: apiKey });
	expect(res.status).toBe(200);
	return res.json<Stats>();
}

export async function configure(apiKey: string, ns: string, body: Record<string, unknown>) {
	const res = await call("PUT", `/api/v1/cache/${ns}`, { token: apiKey, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<{ shard_max_bytes: number; evicted: number }>();
}

export async function errorCode(res: Response): Promise<string> {
	return (await res.json<ErrorJson>()).error.code;
}

/** The shard index of a key under the test configuration's CACHE_SHARD_COUNT. */
export function shardIndexOf(key: string): number {
	return shardOf(ringFor(shardCount(env)), key);
}

/** `count` keys (`<prefix>-<n>`) that all live on the same shard. */
export function keysOnOneShard(prefix: string, count: number): string[] {
	const keys: string[] = [];
	let target: number | null = null;
	for (let n = 0; keys.length < count; n++) {
		const key = `${prefix}-${n}`;
		target ??= shardIndexOf(key);
		if (shardIndexOf(key) === target) keys.push(key);
	}
	return keys;
}

/** The shard object itself, to look at its rows or run its alarm. */
export function shardStub(tenantId: string, ns: string, key: string) {
	return env.CACHE_SHARDS.getByName(`${tenantId}:${ns}:${shardIndexOf(key)}`);
}

type Seen = { url: string };

/** Intercepts outbound fetches to https://origin.example/ (a third-party loader); the rest stay real. */
export function interceptOrigin(respond: (req: Request) => Promise<Response>): Seen[] {
	const seen: Seen[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith("https://origin.example/")) return real(input, init);
		seen.push({ url: req.url });
		return respond(req);
	});
	return seen;
}
